import { Writable } from 'node:stream';
import pino from 'pino';
import { CENSORED, censorSecrets } from './log-censor';
import { loggerOptions } from './logger-options';

describe('censorSecrets', () => {
  it('replaces secret-named values at each of the first four levels', () => {
    const fields = {
      secret: 's1',
      config: { privateKey: 'p2', nested: { password: 'p3', deeper: { initpwd: 'p4' } } },
    };
    expect(censorSecrets(fields)).toEqual({
      secret: CENSORED,
      config: {
        privateKey: CENSORED,
        nested: { password: CENSORED, deeper: { initpwd: CENSORED } },
      },
    });
  });

  it('leaves a fifth level as it is (the walk is bounded)', () => {
    const fields = { a: { b: { c: { d: { token: 't5' } } } } };
    expect(censorSecrets(fields)).toBe(fields);
  });

  it('censors inside arrays and header bags', () => {
    const fields = {
      users: [{ username: 'alice', passwordHash: 'h' }],
      headers: { authorization: 'Basic x', cookie: 'JSESSIONID=y', 'set-cookie': ['z'] },
    };
    expect(censorSecrets(fields)).toEqual({
      users: [{ username: 'alice', passwordHash: CENSORED }],
      headers: { authorization: CENSORED, cookie: CENSORED, 'set-cookie': CENSORED },
    });
  });

  it('never changes what it was given, and returns it as is when it holds no secret', () => {
    const given = { user: { name: 'alice', token: 'eyJ' } };
    const clean = { user: { name: 'alice' }, count: 2 };
    censorSecrets(given);
    expect(given.user.token).toBe('eyJ');
    expect(censorSecrets(clean)).toBe(clean);
  });

  it('keeps the prototype, message and stack of an error it copies', () => {
    const error = Object.assign(new TypeError('boom'), { secret: 'leak' });
    const copy = censorSecrets({ err: error }).err;
    expect(copy).toBeInstanceOf(TypeError);
    expect(copy.message).toBe('boom');
    expect(copy.stack).toBe(error.stack);
    expect(copy.secret).toBe(CENSORED);
  });

  it('skips the fields named to it (left to their serializers)', () => {
    const request = { headers: { authorization: 'Basic x' } };
    expect(censorSecrets({ req: request }, new Set(['req'])).req).toBe(request);
  });
});

describe('the service logger', () => {
  function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return {
      logger: pino(loggerOptions('info'), sink),
      lines: () =>
        chunks
          .join('')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
  }

  it('writes no secret-named value, and keeps the rest of the line', () => {
    const { logger, lines } = capture();
    logger.info({ dto: { name: 'ERP', secret: 'hunter2', payload: { password: 'pw' } } }, 'saved');
    const [line] = lines();
    expect(line.msg).toBe('saved');
    expect(line.dto).toEqual({
      name: 'ERP',
      secret: CENSORED,
      payload: { password: CENSORED },
    });
    expect(JSON.stringify(line)).not.toMatch(/hunter2|"pw"/);
  });

  it('keeps only the serialized fields of a request, whatever headers it carries', () => {
    const { logger, lines } = capture();
    logger.info({
      req: {
        id: 'r1',
        method: 'GET',
        url: '/x?token=eyJhbGciOi.eyJzdWIi.sig',
        ip: '127.0.0.1',
        headers: { authorization: 'Bearer abc' },
      },
    });
    expect(lines()[0].req).toEqual({
      id: 'r1',
      method: 'GET',
      url: '/x?[query redacted]',
      remoteAddress: '127.0.0.1',
    });
  });

  it('cuts a JWT in a message string down to a marker', () => {
    const { logger, lines } = capture();
    logger.warn('refused eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln for alice');
    expect(lines()[0].msg).toBe('refused [token redacted] for alice');
  });
});
