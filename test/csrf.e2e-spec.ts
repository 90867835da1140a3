import type { LightMyRequestResponse } from 'fastify';
import {
  ADMIN,
  ADMIN_AUTH,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

/**
 * Cross-site request forgery (issue 7, item 5): a page on another site makes the admin's browser
 * post a form with the session cookie. Unsafe requests acting with the cookie, and the session
 * login itself, must come from the service's own origin or one of CORS_ORIGINS.
 */

const FORM = 'application/x-www-form-urlencoded';
const HOST = 'tokens.example.com';
const OWN = `http://${HOST}`;
const ERP = 'https://erp.example.com';
const EVIL = 'https://evil.example';

type Headers = Record<string, string>;

function sessionCookieOf(response: LightMyRequestResponse): string | undefined {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
  const line = lines.find((cookie) => cookie.startsWith('JSESSIONID='));
  return line?.split(';')[0].slice('JSESSIONID='.length);
}

const expectRefused = (response: LightMyRequestResponse) => {
  expect({ status: response.statusCode, body: response.json() }).toEqual({
    status: 403,
    body: {
      success: false,
      code: '403',
      msg: expect.stringContaining('a request from another site cannot act'),
    },
  });
};

describe('CSRF: unsafe requests with the session cookie', () => {
  let t: TestApp;
  let cookie: string;
  let made = 0;

  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: `${ERP}, https://portal.example.com` } });
    const login = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      headers: { host: HOST },
      payload: ADMIN,
    });
    expect(login.statusCode).toBe(200);
    cookie = sessionCookieOf(login)!;
  });
  afterAll(() => t.close());

  /** What the attacker's form posts: a new Administrator, with the admin's cookie. */
  const createAdministrator = (headers: Headers, auth: 'cookie' | 'basic' = 'cookie') => {
    made += 1;
    const username = `forged-${made}`;
    const response = t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      headers: {
        host: HOST,
        'content-type': FORM,
        ...(auth === 'cookie' ? { cookie: `JSESSIONID=${cookie}` } : { authorization: ADMIN_AUTH }),
        ...headers,
      },
      payload: new URLSearchParams({
        username,
        password: 'forged-password-1',
        usertype: 'Administrator',
      }).toString(),
    });
    return { username, response };
  };
  const storedUser = async (username: string) =>
    (await t.dataSource.query(`SELECT username FROM users WHERE username = '${username}'`)).length;
  const everything = async () =>
    JSON.stringify([
      await t.dataSource.query('SELECT * FROM users ORDER BY username'),
      await t.dataSource.query('SELECT * FROM audit_events ORDER BY id'),
    ]);

  it.each<[string, Headers]>([
    ['Origin of another site', { origin: EVIL }],
    ['Origin: null (a sandboxed frame or a redirect)', { origin: 'null' }],
    ['Origin of a sibling subdomain', { origin: `http://evil.${HOST}` }],
    ['Origin of the right host over another scheme', { origin: `https://${HOST}` }],
    ['Sec-Fetch-Site: cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site without Origin', { 'sec-fetch-site': 'same-site' }],
    ['a foreign Referer without Origin', { referer: `${EVIL}/page.html` }],
    ['a malformed Referer without Origin', { referer: 'not a url' }],
  ])('refuses %s with 403 and stores nothing', async (_label, headers) => {
    const before = await everything();
    const { username, response } = createAdministrator(headers);
    expectRefused(await response);
    expect(await storedUser(username)).toBe(0);
    expect(await everything()).toBe(before);
  });

  it.each<[string, Headers]>([
    ["the service's own Origin", { origin: OWN }],
    ['an Origin of CORS_ORIGINS', { origin: ERP }],
    ['Sec-Fetch-Site: same-origin without Origin', { 'sec-fetch-site': 'same-origin' }],
    ["the service's own Referer without Origin", { referer: `${OWN}/api-docs/` }],
    ['a Referer of CORS_ORIGINS without Origin', { referer: `${ERP}/reports?id=1` }],
    ['none of these headers (curl with a cookie jar)', {}],
  ])('accepts %s', async (_label, headers) => {
    const { username, response } = createAdministrator(headers);
    expect((await response).statusCode).toBe(200);
    expect(await storedUser(username)).toBe(1);
  });

  it('lets Basic-authenticated calls through whatever their Origin', async () => {
    const { username, response } = createAdministrator({ origin: EVIL }, 'basic');
    expect((await response).statusCode).toBe(200);
    expect(await storedUser(username)).toBe(1);
  });

  it('lets Bearer-authenticated calls through whatever their Origin', async () => {
    const secret = 'csrf-suite-secret-0123456789abcdef';
    await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret, enable: '1' });
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: secret,
      payload: { username: 'sso-user' },
    });
    const response = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/logout`,
      headers: { host: HOST, authorization: `Bearer ${minted.json().token}`, origin: EVIL },
    });
    expect(response.json()).toEqual({ success: true, msg: 'success' });
  });

  it('lets safe methods through with the cookie and a foreign Origin', async () => {
    const response = await t.inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { host: HOST, cookie: `JSESSIONID=${cookie}`, origin: EVIL },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ success: true });
  });

  it('refuses a cross-site logout, and the session stays open', async () => {
    const logout = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/logout`,
      headers: { host: HOST, cookie: `JSESSIONID=${cookie}`, origin: EVIL },
    });
    expectRefused(logout);
    const detail = await t.inject({
      method: 'GET',
      url: `${USER_API}/detail`,
      headers: { host: HOST, cookie: `JSESSIONID=${cookie}` },
    });
    expect(detail.json()).toMatchObject({ data: { user: { username: ADMIN.username } } });
  });
});

describe('CSRF: the session login (login CSRF)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: ERP } });
  });
  afterAll(() => t.close());

  const login = (headers: Headers) =>
    t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      headers: { host: HOST, 'content-type': FORM, ...headers },
      payload: new URLSearchParams(ADMIN).toString(),
    });
  const sessions = async () => (await t.dataSource.query('SELECT * FROM sessions')).length;

  it.each<[string, Headers]>([
    ['Origin of another site', { origin: EVIL }],
    ['Origin: null', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['a foreign Referer', { referer: `${EVIL}/` }],
  ])('refuses a login form posted with %s: no cookie, no session', async (_label, headers) => {
    const before = await sessions();
    const response = await login(headers);
    expectRefused(response);
    expect(sessionCookieOf(response)).toBeUndefined();
    expect(await sessions()).toBe(before);
  });

  it.each<[string, Headers]>([
    ["the service's own Origin", { origin: OWN }],
    ['an Origin of CORS_ORIGINS', { origin: ERP }],
    ['none of these headers', {}],
  ])('opens a session for a login with %s', async (_label, headers) => {
    const response = await login(headers);
    expect(response.statusCode).toBe(200);
    expect(sessionCookieOf(response)).toBeDefined();
  });
});

describe('CSRF: the own origin behind a trusted TLS proxy', () => {
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    // inject's peer is 127.0.0.1: the trusted proxy, which terminates TLS for https://tokens.example.com.
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
    const login = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      headers: { host: HOST, 'x-forwarded-proto': 'https' },
      payload: ADMIN,
    });
    cookie = sessionCookieOf(login)!;
  });
  afterAll(() => t.close());

  const deleteBatch = (headers: Headers) =>
    t.inject({
      method: 'POST',
      url: `${TOKEN_API}/deleteBatch`,
      headers: { host: HOST, cookie: `JSESSIONID=${cookie}`, ...headers },
      payload: ['NOPE'],
    });

  it('takes the scheme from X-Forwarded-Proto and the host from the request', async () => {
    expect(
      (await deleteBatch({ 'x-forwarded-proto': 'https', origin: `https://${HOST}` })).statusCode,
    ).toBe(200);
    expectRefused(await deleteBatch({ 'x-forwarded-proto': 'https', origin: OWN }));
    expectRefused(
      await deleteBatch({ 'x-forwarded-proto': 'https', origin: `https://${HOST}.evil.example` }),
    );
  });
});
