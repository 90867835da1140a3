import {
  basic,
  SESSION_API,
  startTestApp,
  type TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

const SECRET = 'an-erp-secret-of-at-least-32-bytes!!';
const envelope = (status: number) => ({
  success: false,
  code: String(status),
  msg: expect.any(String),
});

describe('ERROR_STATUS=200: the Datafor API answers errors as Datafor does', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ERROR_STATUS: '200' } });
    expect(
      (
        await t.admin('POST', `${USER_API}/insertOrUpdate`, {
          username: 'reader',
          password: 'reader-password-1',
          usertype: 'SYS_Reader',
        })
      ).statusCode,
    ).toBe(200);
  });
  afterAll(() => t.close());

  it('answers a refused body 200, with the envelope, its fields, and nothing stored', async () => {
    const response = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'bad name!',
      secret: SECRET,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      ...envelope(400),
      errors: [expect.objectContaining({ field: 'name' })],
    });
    expect((await t.admin('GET', `${TOKEN_API}/list`)).json().data).toEqual([]);
  });

  it('answers 401, 403 and 404 with 200, and no challenge', async () => {
    const anonymous = await t.inject({ method: 'GET', url: `${TOKEN_API}/list` });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.json()).toMatchObject(envelope(401));
    expect(anonymous.headers['www-authenticate']).toBeUndefined();

    const reader = await t.inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { authorization: basic('reader', 'reader-password-1') },
    });
    expect(reader.statusCode).toBe(200);
    expect(reader.json()).toMatchObject(envelope(403));

    const missing = await t.admin('GET', `${TOKEN_API}/content?name=nope`);
    expect(missing.statusCode).toBe(200);
    expect(missing.json()).toMatchObject(envelope(404));

    const login = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username: 'reader', password: 'wrong-password' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toMatchObject(envelope(401));
  });

  it('answers what the body parser refuses (malformed JSON, 413, 415) with 200 too', async () => {
    const url = `${TOKEN_API}/update`;
    const authorization = basic('admin', 'admin-password-1');
    for (const [headers, payload, status] of [
      [{ 'content-type': 'application/json' }, '{"name":', 400],
      [{ 'content-type': 'application/json' }, `{"name":"${'x'.repeat(70_000)}"}`, 413],
      [{ 'content-type': 'text/csv' }, 'a,b', 415],
    ] as const) {
      const response = await t.inject({
        method: 'POST',
        url,
        headers: { ...headers, authorization },
        payload,
      });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 200,
        body: envelope(status),
      });
    }
  });

  it('keeps the status of routes outside the Datafor API', async () => {
    expect((await t.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });
});

describe('ERROR_STATUS=200 keeps 429 and Retry-After', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ERROR_STATUS: '200', RATE_LIMIT_MAX: '2' } });
  });
  afterAll(() => t.close());

  it('answers the third request in the window 429', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 3; i++) {
      last = await t.inject({ method: 'GET', url: `${TOKEN_API}/list` });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last?.headers['retry-after']).toEqual(expect.any(String));
    expect(last?.json()).toMatchObject(envelope(429));
  });
});

describe('ERROR_STATUS unset: real statuses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 401 with a challenge and 400 as 400', async () => {
    const anonymous = await t.inject({ method: 'GET', url: `${TOKEN_API}/list` });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="datafor"');
    const bad = await t.admin('POST', `${TOKEN_API}/update`, { name: 'bad name!', secret: SECRET });
    expect(bad.statusCode).toBe(400);
  });
});
