import { answeredStatus, isDataforApiUrl } from './error-status';

describe('error status modes', () => {
  it('answers every 4xx but 429 with 200 in the 200 mode, and keeps 429 and 5xx', () => {
    for (const status of [400, 401, 403, 404, 409, 413, 415]) {
      expect(answeredStatus(status, '200')).toBe(200);
      expect(answeredStatus(status, 'http')).toBe(status);
    }
    for (const status of [429, 500, 503]) {
      expect(answeredStatus(status, '200')).toBe(status);
      expect(answeredStatus(status, 'http')).toBe(status);
    }
  });

  it("knows the Datafor API's routes under any prefix, and nothing else", () => {
    for (const url of [
      '/plugin/datafor-modeler/api/token/list',
      '/datafor/plugin/datafor-modeler/api/user/detail?x=1',
      '/plugin/datafor/api/extension/auth/login',
    ]) {
      expect(isDataforApiUrl(url)).toBe(true);
    }
    for (const url of [
      '/health/ready',
      '/metrics',
      '/docs',
      '/nope?/plugin/datafor-modeler/api/',
      undefined,
    ]) {
      expect(isDataforApiUrl(url)).toBe(false);
    }
  });
});
