import { Agent, request as httpRequest } from 'node:http';
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
 * Cross-site request forgery (issue 7, item 5; issue 17, point 3): a page on another site makes the
 * admin's browser post a form, with the session cookie or with the Basic credentials the browser
 * keeps after its own prompt. Unsafe requests that carry a browser's cross-site markers are refused
 * however they authenticate; requests without markers (curl, servers) still pass.
 */

const FORM = 'application/x-www-form-urlencoded';
const HOST = 'tokens.example.com';
const OWN = `http://${HOST}`;
const ERP = 'https://erp.example.com';
const EVIL = 'https://evil.example';
const WRONG_AUTH = `Basic ${Buffer.from(`${ADMIN.username}:not-the-password`).toString('base64')}`;

type Headers = Record<string, string>;
type Auth = 'cookie' | 'basic' | 'bearer' | 'none';
const AUTHS: Auth[] = ['cookie', 'basic', 'bearer', 'none'];

function sessionCookieOf(response: LightMyRequestResponse): string | undefined {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
  const line = lines.find((cookie) => cookie.startsWith('JSESSIONID='));
  return line?.split(';')[0].slice('JSESSIONID='.length);
}

const REFUSED = {
  status: 403,
  body: {
    success: false,
    code: '403',
    msg: expect.stringContaining('a request from another site cannot act'),
  },
};
const expectRefused = (response: LightMyRequestResponse) => {
  expect({ status: response.statusCode, body: response.json() }).toEqual(REFUSED);
};

/** Markers of a browser posting from another site. */
const CROSS_SITE: [string, Headers][] = [
  ['Origin of another site', { origin: EVIL }],
  ['Origin: null (a sandboxed frame or a redirect)', { origin: 'null' }],
  ['Origin of a sibling subdomain', { origin: `http://evil.${HOST}` }],
  ['Origin of the right host over another scheme', { origin: `https://${HOST}` }],
  ['two Origin headers, one of them allowed', { origin: `${OWN}, ${EVIL}` }],
  [
    'Origin of another site with Sec-Fetch-Site: same-origin',
    { origin: EVIL, 'sec-fetch-site': 'same-origin' },
  ],
  ['Sec-Fetch-Site: cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site: same-site without Origin', { 'sec-fetch-site': 'same-site' }],
  ['Sec-Fetch-Site of two values', { 'sec-fetch-site': 'same-origin, cross-site' }],
  ['a foreign Referer without Origin', { referer: `${EVIL}/page.html` }],
  ['a malformed Referer without Origin', { referer: 'not a url' }],
];

/** A browser on this service's origin or on one of CORS_ORIGINS, or no browser at all. */
const ALLOWED: [string, Headers][] = [
  ["the service's own Origin", { origin: OWN }],
  ["the service's own Origin in capitals", { origin: OWN.toUpperCase() }],
  ['an Origin of CORS_ORIGINS', { origin: ERP }],
  [
    'an Origin of CORS_ORIGINS with Sec-Fetch-Site: cross-site',
    { origin: ERP, 'sec-fetch-site': 'cross-site' },
  ],
  ['Sec-Fetch-Site: same-origin without Origin', { 'sec-fetch-site': 'same-origin' }],
  ['Sec-Fetch-Site: none (typed in the address bar)', { 'sec-fetch-site': 'none' }],
  ["the service's own Referer without Origin", { referer: `${OWN}/api-docs/` }],
  ['a Referer of CORS_ORIGINS without Origin', { referer: `${ERP}/reports?id=1` }],
  ['none of these headers (curl, a server)', {}],
];

describe('CSRF: unsafe requests with cross-site markers, however they authenticate', () => {
  let t: TestApp;
  let cookie: string;
  let bearer: string;
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
    const secret = 'csrf-suite-secret-0123456789abcdef';
    await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret, enable: '1' });
    const minted = await t.admin('POST', `${TOKEN_API}/generate`, {
      name: 'ERP',
      privateKey: secret,
      payload: { username: 'sso-user' },
    });
    bearer = minted.json<{ token: string }>().token;
  });
  afterAll(() => t.close());

  const credentials = (auth: Auth): Headers =>
    auth === 'cookie'
      ? { cookie: `JSESSIONID=${cookie}` }
      : auth === 'basic'
        ? { authorization: ADMIN_AUTH }
        : auth === 'bearer'
          ? { authorization: `Bearer ${bearer}` }
          : {};

  /** What the attacker's form posts: a new Administrator (a token's user may only log out). */
  const forge = (auth: Auth, headers: Headers) => {
    made += 1;
    const username = `forged-${made}`;
    const response = t.inject({
      method: 'POST',
      url: auth === 'bearer' ? `${SESSION_API}/logout` : `${USER_API}/insertOrUpdate`,
      headers: { host: HOST, 'content-type': FORM, ...credentials(auth), ...headers },
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
      await t.dataSource.query('SELECT * FROM sessions ORDER BY 1'),
    ]);

  describe.each(AUTHS)('authenticated by %s', (auth) => {
    it.each(CROSS_SITE)('refuses %s with 403 and changes nothing', async (_label, headers) => {
      const before = await everything();
      const { username, response } = forge(auth, headers);
      expectRefused(await response);
      expect(await storedUser(username)).toBe(0);
      expect(await everything()).toBe(before);
    });

    it.each(ALLOWED)('lets %s through', async (_label, headers) => {
      const { username, response } = forge(auth, headers);
      const answer = await response;
      if (auth === 'cookie' || auth === 'basic') {
        expect({ status: answer.statusCode, stored: await storedUser(username) }).toEqual({
          status: 200,
          stored: 1,
        });
      } else if (auth === 'bearer') {
        expect(answer.json()).toEqual({ success: true, msg: 'success' });
      } else {
        // Past the cross-site check, a caller without credentials meets authentication.
        expect({ status: answer.statusCode, stored: await storedUser(username) }).toEqual({
          status: 401,
          stored: 0,
        });
      }
    });
  });

  it('refuses a cross-site post with a wrong Basic password before checking it: no failed sign-in is recorded', async () => {
    const before = await everything();
    const response = await t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      headers: { host: HOST, authorization: WRONG_AUTH, origin: EVIL },
      payload: {
        username: 'forged-wrong',
        password: 'forged-password-1',
        usertype: 'Administrator',
      },
    });
    expectRefused(response);
    expect(await everything()).toBe(before);
  });

  it('lets safe methods through with credentials and a foreign Origin', async () => {
    for (const auth of ['cookie', 'basic'] as const) {
      const response = await t.inject({
        method: 'GET',
        url: `${TOKEN_API}/list`,
        headers: { host: HOST, ...credentials(auth), origin: EVIL, 'sec-fetch-site': 'cross-site' },
      });
      expect({ auth, status: response.statusCode }).toEqual({ auth, status: 200 });
    }
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

describe('CSRF: hundreds of concurrent posts over HTTP', () => {
  let t: TestApp;
  let port: number;
  let agent: Agent;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: ERP } });
    await t.app.listen(0, '127.0.0.1');
    port = Number(new URL(await t.app.getUrl()).port);
    agent = new Agent({ keepAlive: true, maxSockets: 64 });
    // One verified sign-in first: the allowed posts then cost no password hash each.
    expect((await t.admin('GET', `${TOKEN_API}/list`)).statusCode).toBe(200);
  });
  afterAll(async () => {
    agent.destroy();
    await t.close();
  });

  /** One request with exactly these headers (no client library adds its own); answers the status. */
  const send = (path: string, body: string, headers: Headers) =>
    new Promise<number>((answered, failed) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          agent,
          method: 'POST',
          path,
          headers: {
            host: HOST,
            authorization: ADMIN_AUTH,
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => answered(response.statusCode ?? 0));
        },
      );
      request.on('error', failed);
      request.end(body);
    });
  /** The forged form: a new Administrator. */
  const forge = (username: string, headers: Headers) =>
    send(
      `${USER_API}/insertOrUpdate`,
      new URLSearchParams({
        username,
        password: 'forged-password-1',
        usertype: 'Administrator',
      }).toString(),
      { 'content-type': FORM, ...headers },
    );
  /** A legitimate unsafe call that costs no password hash (a new user's would, 60 times over). */
  const deleteNothing = (headers: Headers) =>
    send(`${TOKEN_API}/deleteBatch`, JSON.stringify(['NOPE']), {
      'content-type': 'application/json',
      ...headers,
    });

  it('refuses 400 cross-site posts sent at once, while same-origin and marker-less posts go through', async () => {
    const crossSite = Array.from({ length: 400 }, (_, i) =>
      forge(`flood-forged-${i}`, CROSS_SITE[i % CROSS_SITE.length][1]),
    );
    const allowed = Array.from({ length: 90 }, (_, i) =>
      deleteNothing(ALLOWED[i % ALLOWED.length][1]),
    );
    const [refused, passed] = await Promise.all([Promise.all(crossSite), Promise.all(allowed)]);
    expect(refused.filter((status) => status !== 403)).toEqual([]);
    expect(passed.filter((status) => status !== 200)).toEqual([]);
    const stored = await t.dataSource.query(
      "SELECT username FROM users WHERE username LIKE 'flood-%'",
    );
    expect(stored).toEqual([]);
  });
});

describe('CSRF and CORS: one reading of CORS_ORIGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://App.Example.com/' } });
  });
  afterAll(() => t.close());

  it('answers the preflight of https://app.example.com for an entry written https://App.Example.com/', async () => {
    const preflight = await t.inject({
      method: 'OPTIONS',
      url: `${USER_API}/insertOrUpdate`,
      headers: {
        host: HOST,
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.statusCode).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
  });

  it('lets its post through the cross-site check, with the CORS header', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${USER_API}/insertOrUpdate`,
      headers: {
        host: HOST,
        authorization: ADMIN_AUTH,
        origin: 'https://app.example.com',
        'sec-fetch-site': 'cross-site',
      },
      payload: { username: 'from-app', password: 'from-app-password-1', usertype: 'SYS_Reader' },
    });
    expect({
      status: response.statusCode,
      allowOrigin: response.headers['access-control-allow-origin'],
    }).toEqual({ status: 200, allowOrigin: 'https://app.example.com' });
  });
});

describe('401 challenges: Basic for clients, no Basic prompt for browsers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const BASIC = 'Basic realm="datafor"';
  const NO_PROMPT = 'Bearer realm="datafor"';
  it.each<[string, string, Headers]>([
    ['no browser header (curl, a server)', BASIC, {}],
    ['a wrong password and no browser header', BASIC, { authorization: WRONG_AUTH }],
    ["Sec-Fetch-Mode alone (Node's fetch)", BASIC, { 'sec-fetch-mode': 'cors' }],
    [
      'Sec-Fetch-Site: none (a page opened over HTTPS)',
      NO_PROMPT,
      { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' },
    ],
    [
      'Sec-Fetch-Site: same-origin (a script over HTTPS)',
      NO_PROMPT,
      { 'sec-fetch-site': 'same-origin' },
    ],
    [
      'Upgrade-Insecure-Requests (a page opened over plain HTTP)',
      NO_PROMPT,
      { 'upgrade-insecure-requests': '1' },
    ],
    ['Origin (a script or a form of a page)', NO_PROMPT, { origin: OWN }],
    [
      'a wrong password from a browser',
      NO_PROMPT,
      { authorization: WRONG_AUTH, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' },
    ],
  ])(
    'answers %s with the envelope and WWW-Authenticate: %s',
    async (_label, challenge, headers) => {
      const response = await t.inject({
        method: 'GET',
        url: `${TOKEN_API}/list`,
        headers: { host: HOST, ...headers },
      });
      expect({
        status: response.statusCode,
        challenge: response.headers['www-authenticate'],
        body: response.json(),
      }).toEqual({
        status: 401,
        challenge,
        body: { success: false, code: '401', msg: expect.any(String) },
      });
    },
  );
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
