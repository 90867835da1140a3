import {
  ADMIN,
  ADMIN_AUTH,
  AUDIT_API,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

const SECRET = 'security-suite-secret-0123456789abcdef';

describe('rate limits on generate and the admin endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '60' } });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After and the envelope past the limit', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await t.admin('GET', `${TOKEN_API}/list`);
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.json()).toMatchObject({
      success: false,
      code: '429',
      msg: expect.stringContaining('too many requests'),
    });
  });

  it('counts the addresses of one IPv6 /64 as one client, and another /64 apart', async () => {
    const list = (address: string) =>
      t.inject({
        method: 'GET',
        url: `${TOKEN_API}/list`,
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        remoteAddress: address,
      });
    const statuses: number[] = [];
    for (let i = 1; i <= 7; i++) statuses.push((await list(`2001:db8:5:6::${i}`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect((await list('2001:db8:5:7::1')).statusCode).toBe(200);
  });

  it('leaves the public endpoints and health out of the limit', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await t.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      expect(
        (await t.inject({ method: 'GET', url: '/plugin/datafor-modeler/api/roles/types' }))
          .statusCode,
      ).toBe(200);
    }
  });
});

describe('failed sign-ins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW: '900' } });
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'victim',
      password: 'victim-password',
    });
  });
  afterAll(() => t.close());

  const basicCall = (username: string, password: string, client = '127.0.0.1') =>
    t.inject({
      method: 'GET',
      url: `${TOKEN_API}/list`,
      headers: { authorization: basic(username, password) },
      remoteAddress: client,
    });
  const login = (username: string, password: string, client = '127.0.0.1') =>
    t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: { username, password },
      remoteAddress: client,
    });

  it('answers 429 with Retry-After past the limit, even to the right password, except to a known address', async () => {
    // The owner signed in from 10.0.0.2 before: that address is known for the owner.
    expect((await login('victim', 'victim-password', '10.0.0.2')).statusCode).toBe(200);
    expect((await login('victim', 'wrong-1', '10.0.0.1')).statusCode).toBe(401);
    expect((await basicCall('victim', 'wrong-2', '10.0.0.1')).statusCode).toBe(401);
    expect((await login('victim', 'wrong-3', '10.0.0.1')).statusCode).toBe(401);
    const blocked = await login('victim', 'victim-password', '10.0.0.1');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
    expect(blocked.json()).toMatchObject({ success: false, code: '429' });
    expect((await basicCall('victim', 'victim-password', '10.0.0.1')).statusCode).toBe(429);
    // The username is locked for strangers; the owner, from its known address, still signs in.
    expect((await login('victim', 'victim-password', '10.0.0.3')).statusCode).toBe(429);
    expect((await login('victim', 'victim-password', '10.0.0.2')).statusCode).toBe(200);
  });

  it("keeps counting an address's failures across another account's successes, then slows it down", async () => {
    await t.admin('POST', `${USER_API}/insertOrUpdate`, {
      username: 'mallory',
      password: 'mallory-password',
    });
    expect((await login('victim2', 'guess-1', '10.0.1.1')).statusCode).toBe(401);
    expect((await login('mallory', 'mallory-password', '10.0.1.1')).statusCode).toBe(200);
    expect((await login('victim3', 'guess-2', '10.0.1.1')).statusCode).toBe(401);
    // Signed in (a reader is refused the admin endpoint, 403, not 401).
    expect((await basicCall('mallory', 'mallory-password', '10.0.1.1')).statusCode).toBe(403);
    expect((await login('victim4', 'guess-3', '10.0.1.1')).statusCode).toBe(401);
    // Past the limit, one try per LOGIN_FAILURE_WINDOW / LOGIN_MAX_FAILURES seconds (300 s here)...
    expect((await login('victim5', 'guess-4', '10.0.1.1')).statusCode).toBe(401);
    const slowed = await login('victim6', 'guess-5', '10.0.1.1');
    expect(slowed.statusCode).toBe(429);
    expect(Number(slowed.headers['retry-after'])).toBeLessThanOrEqual(300);
    // ...except for a user who signed in from there before.
    expect((await login('mallory', 'mallory-password', '10.0.1.1')).statusCode).toBe(200);
  });

  it('records a long, non-ASCII username cut at a character boundary', async () => {
    const username = '😀'.repeat(300);
    expect((await basicCall(username, 'whatever', '10.0.3.1')).statusCode).toBe(401);
    const [row] = await t.dataSource.query(
      "SELECT actor, target FROM audit_events WHERE client = '10.0.3.1'",
    );
    expect(row).toEqual({ actor: '😀'.repeat(128), target: '😀'.repeat(256) });
  });

  it('records each failure and success in the audit trail, never the password', async () => {
    const rows: { action: string; outcome: string; target: string; client: string }[] =
      await t.dataSource.query(
        "SELECT action, outcome, target, client FROM audit_events WHERE action IN ('session.login', 'auth.basic') ORDER BY id",
      );
    expect(rows).toEqual(
      expect.arrayContaining([
        { action: 'session.login', outcome: 'failure', target: 'victim', client: '10.0.0.1' },
        { action: 'auth.basic', outcome: 'failure', target: 'victim', client: '10.0.0.1' },
        { action: 'session.login', outcome: 'success', target: 'victim', client: '10.0.0.2' },
      ]),
    );
    const everything = JSON.stringify(await t.dataSource.query('SELECT * FROM audit_events'));
    for (const password of ['wrong-1', 'victim-password', ADMIN.password])
      expect(everything).not.toContain(password);
  });
});

describe('GET /audit/list', () => {
  let t: TestApp;
  let now = 1_800_000_000_000;
  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => now } });
    await t.admin('POST', `${TOKEN_API}/update`, { name: 'ERP', secret: SECRET, enable: '1' });
    for (const username of ['a1', 'a2', 'a3']) {
      await t.admin('POST', `${TOKEN_API}/generate`, {
        name: 'ERP',
        privateKey: SECRET,
        payload: { username },
      });
    }
    await t.admin('POST', `${TOKEN_API}/revoke`, { name: 'ERP' });
    now += 1000;
  });
  afterAll(() => t.close());

  it('filters by action and pages newest first', async () => {
    const response = await t.admin('GET', `${AUDIT_API}/list?action=token.mint&size=2`);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ success: true, total: 3, page: 1, size: 2 });
    expect(body.data.map((e: { details: { username: string } }) => e.details.username)).toEqual([
      'a3',
      'a2',
    ]);
    const second = (
      await t.admin('GET', `${AUDIT_API}/list?action=token.mint&size=2&page=2`)
    ).json();
    expect(second.data.map((e: { details: { username: string } }) => e.details.username)).toEqual([
      'a1',
    ]);
  });

  it('filters by actor, target and time range', async () => {
    const byTarget = (await t.admin('GET', `${AUDIT_API}/list?target=ERP&actor=admin`)).json();
    expect(byTarget.data.map((e: { action: string }) => e.action).sort()).toEqual(
      ['token.create', 'token.mint', 'token.mint', 'token.mint', 'token.revoke'].sort(),
    );
    const future = (
      await t.admin('GET', `${AUDIT_API}/list?from=${Date.now() + 3_600_000}`)
    ).json();
    expect(future).toMatchObject({ total: 0, data: [] });
  });

  it('takes the whole documented range of from and to, up to 8.64e15, and refuses past it', async () => {
    const widest = await t.admin('GET', `${AUDIT_API}/list?from=0&to=8640000000000000`);
    expect(widest.statusCode).toBe(200);
    expect(widest.json().total).toBeGreaterThan(0);
    const sixteenDigits = await t.admin('GET', `${AUDIT_API}/list?from=1000000000000000`);
    expect(sixteenDigits.json()).toMatchObject({ success: true, total: 0 });
    for (const past of ['8640000000000001', '9007199254740993', '99999999999999999']) {
      const refused = await t.admin('GET', `${AUDIT_API}/list?to=${past}`);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({
        success: false,
        code: '400',
        errors: [{ field: 'to', message: 'must be epoch milliseconds' }],
      });
    }
  });

  it('never shows a secret or a token', async () => {
    const response = await t.admin('GET', `${AUDIT_API}/list?size=500`);
    expect(response.body).not.toContain(SECRET);
    expect(response.body).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('is for Administrators only, and validates its query', async () => {
    expect((await t.inject({ method: 'GET', url: `${AUDIT_API}/list` })).statusCode).toBe(401);
    const bad = await t.admin('GET', `${AUDIT_API}/list?size=1000&page=0`);
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['page', 'size']);
  });
});

const ROLE_TYPES = '/plugin/datafor-modeler/api/roles/types';
/** The headers every answer carries, over plain HTTP and TLS alike. */
const TRANSPORT_INDEPENDENT = {
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};
const CSP =
  "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';" +
  "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-inline';" +
  "script-src-attr 'none';style-src 'self' 'unsafe-inline'";
const HSTS = 'max-age=31536000; includeSubDomains';

describe('security headers that fit the transport', () => {
  const plainHttp = (headers: Record<string, string | string[] | number | undefined>) => {
    expect(headers).toMatchObject({ ...TRANSPORT_INDEPENDENT, 'content-security-policy': CSP });
    expect(headers['strict-transport-security']).toBeUndefined();
    // Browsers ignore it from an untrustworthy origin, with a console error.
    expect(headers['cross-origin-opener-policy']).toBeUndefined();
  };
  const tls = (headers: Record<string, string | string[] | number | undefined>) =>
    expect(headers).toMatchObject({
      ...TRANSPORT_INDEPENDENT,
      'content-security-policy': `${CSP};upgrade-insecure-requests`,
      'strict-transport-security': HSTS,
      'cross-origin-opener-policy': 'same-origin',
    });

  describe('by default', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    });
    afterAll(() => t.close());

    it('sends neither HSTS nor upgrade-insecure-requests over plain HTTP, on pages, API answers and errors', async () => {
      plainHttp((await t.inject({ method: 'GET', url: '/api-docs' })).headers);
      plainHttp((await t.inject({ method: 'GET', url: ROLE_TYPES })).headers);
      const unauthorized = await t.inject({ method: 'GET', url: `${TOKEN_API}/list` });
      expect(unauthorized.statusCode).toBe(401);
      plainHttp(unauthorized.headers);
      plainHttp((await t.inject({ method: 'GET', url: '/no/such/page' })).headers);
    });

    it('sends both when a trusted proxy says the request came over https', async () => {
      const viaTls = await t.inject({
        method: 'GET',
        url: ROLE_TYPES,
        headers: { 'x-forwarded-proto': 'https' },
      });
      tls(viaTls.headers);
      const viaHttp = await t.inject({
        method: 'GET',
        url: ROLE_TYPES,
        headers: { 'x-forwarded-proto': 'http' },
      });
      plainHttp(viaHttp.headers);
    });
  });

  it('ignores X-Forwarded-Proto from a client that is not a trusted proxy', async () => {
    const t = await startTestApp();
    try {
      const response = await t.inject({
        method: 'GET',
        url: ROLE_TYPES,
        headers: { 'x-forwarded-proto': 'https' },
      });
      plainHttp(response.headers);
    } finally {
      await t.close();
    }
  });

  it('sends both on every answer with SECURITY_HEADERS_TLS=always (behind a TLS terminator)', async () => {
    const t = await startTestApp({ env: { SECURITY_HEADERS_TLS: 'always' } });
    try {
      tls((await t.inject({ method: 'GET', url: ROLE_TYPES })).headers);
      tls((await t.inject({ method: 'GET', url: '/api-docs' })).headers);
    } finally {
      await t.close();
    }
  });
});

describe('headers, CORS and cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { CORS_ORIGINS: 'https://erp.example.com', COOKIE_SECURE: 'true' },
    });
  });
  afterAll(() => t.close());

  it('sends the security headers', async () => {
    const response = await t.inject({
      method: 'GET',
      url: '/plugin/datafor-modeler/api/roles/types',
    });
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'content-security-policy': expect.stringContaining("default-src 'self'"),
    });
  });

  it('still serves Swagger UI', async () => {
    const response = await t.inject({ method: 'GET', url: '/api-docs' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger');
  });

  it('allows only the listed origins', async () => {
    const preflight = (origin: string) =>
      t.inject({
        method: 'OPTIONS',
        url: `${TOKEN_API}/generate`,
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight('https://erp.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://erp.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(
      (await preflight('https://evil.example.com')).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });

  it('marks the session cookie Secure when COOKIE_SECURE is set, HttpOnly and SameSite=Lax always', async () => {
    const response = await t.inject({
      method: 'POST',
      url: `${SESSION_API}/login`,
      payload: ADMIN,
    });
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
  });

  it('sends no CORS headers to other origins by default', async () => {
    const plain = await startTestApp();
    try {
      const response = await plain.inject({
        method: 'GET',
        url: `${TOKEN_API}/list`,
        headers: { origin: 'https://erp.example.com', authorization: ADMIN_AUTH },
      });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
