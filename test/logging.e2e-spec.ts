import { ADMIN, basic, SESSION_API, startTestApp, TestApp, TOKEN_API } from './support/test-app';

const SECRET = 'log-test-secret-that-must-never-be-logged';
const USER_PASSWORD = 'payload-password-never-logged';

describe('logs at debug level while minting', () => {
  let t: TestApp;
  const radioactive: string[] = [
    SECRET,
    USER_PASSWORD,
    ADMIN.password,
    basic(ADMIN.username, ADMIN.password).slice(6),
  ];

  beforeAll(async () => {
    t = await startTestApp({ captureLogs: true });
    await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
      initpwd: 'init-password-never-logged',
    });
    radioactive.push('init-password-never-logged');
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: SECRET,
      payload: { username: 'alice', password: USER_PASSWORD },
    });
    const token: string = minted.json().token;
    radioactive.push(token, token.split('.')[2]);
    await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: `${SECRET}-typo`,
      payload: { username: 'bob' },
    });
    await t.inject({
      method: 'GET',
      url: `/plugin/datafor-modeler/api/user/detail?token=${token}`,
    });
    const login = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username: ADMIN.username, password: ADMIN.password },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0].split('=')[1];
    radioactive.push(cookie);
    await t.inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { cookie: `JSESSIONID=${cookie}` },
    });
    for (const id of ['trace-42', 'not a plain id'])
      await t.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': id } });
  });
  afterAll(() => t.close());

  it('writes structured JSON lines, one per request at least', () => {
    const lines = t.logs
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url: string } });
    const requests = lines.filter((line) => line.req);
    expect(requests.length).toBeGreaterThanOrEqual(6);
    expect(
      requests.some(
        (line) => line.req!.url === '/plugin/datafor-modeler/api/user/detail?[query redacted]',
      ),
    ).toBe(true);
  });

  it("gives each request line a request id: the caller's X-Request-Id when it is a plain token", () => {
    const lines = t.logs
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { req?: { id?: string; url: string } });
    const ids = lines.flatMap((line) => (line.req ? [line.req.id] : []));
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('trace-42');
    expect(ids).not.toContain('not a plain id');
  });

  it('never contains a secret, privateKey, password, credential, cookie or token', () => {
    const text = t.logs.join('');
    expect(text.length).toBeGreaterThan(0);
    for (const value of radioactive)
      expect({ leaked: text.includes(value), value: value.slice(0, 6) }).toEqual({
        leaked: false,
        value: value.slice(0, 6),
      });
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
  });
});
