import { parseSettings } from '../../config/settings';
import { readinessUrl } from './readiness-url';

describe('readinessUrl', () => {
  it.each([
    [{}, 'http://127.0.0.1:3000/health/ready'],
    [{ HOST: '0.0.0.0', PORT: '8080' }, 'http://127.0.0.1:8080/health/ready'],
    [{ HOST: '::' }, 'http://[::1]:3000/health/ready'],
    [{ HOST: '127.0.0.1' }, 'http://127.0.0.1:3000/health/ready'],
    [{ HOST: '::1' }, 'http://[::1]:3000/health/ready'],
    [{ HOST: '10.1.2.3', PORT: '3001' }, 'http://10.1.2.3:3001/health/ready'],
    [{ HOST: 'fd00::5' }, 'http://[fd00::5]:3000/health/ready'],
    [{ HOST: 'token-service.internal' }, 'http://token-service.internal:3000/health/ready'],
  ])('reaches HOST and PORT %j at %s', (env, url) => {
    expect(readinessUrl(parseSettings(env))).toBe(url);
  });
});
