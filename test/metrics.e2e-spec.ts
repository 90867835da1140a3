import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { freePort } from './support/service-process';
import { signHmacToken } from './support/jwt';
import {
  ADMIN,
  ADMIN_AUTH,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

/**
 * Prometheus metrics: a scripted run of mints, token sign-ins and password sign-ins, then one
 * scrape of /metrics whose counters must hold exactly what happened, and nothing a caller chose.
 */

const SECRET = 'metrics-suite-secret-0123456789abcdef';
const CRM_SECRET = 'metrics-crm-secret-0123456789abcdef';
const FORGED_SECRET = 'forger-secret-0123456789abcdefghij';
const DETAIL = `${USER_API}/detail`;
const GENERATE = `${TOKEN_API}/generate`;
const ALICE = 'alice-metrics';
const MALLORY = 'mallory-metrics';
const NOBODY = 'nobody-metrics';
const ATTACKER_NAME = 'attacker-chosen-name';
const WRONG_ADMIN_PASSWORD = 'not-the-admin-password';
const WRONG_PASSWORD = 'mallory-guess-1234';
const ADDRESSES = ['198.51.100.1', '203.0.113.9', '192.0.2.44'];
const SCRAPE_TOKEN = 'prometheus-scrape-token-0123456789';

type Labels = Record<string, string>;

/** The samples of one metric in a text exposition: each label set (canonical JSON) to its value. */
function samples(exposition: string, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = value;
    const sorted = Object.fromEntries(
      Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)),
    );
    found[JSON.stringify(sorted)] = Number(match[3]);
  }
  return found;
}

const key = (labels: Labels) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))));
const expected = (entries: [Labels, number][]) =>
  Object.fromEntries(entries.map(([labels, value]) => [key(labels), value]));

/** A token as an ERP that holds the secret signs it: username under `uid`. */
function erpToken(kid: string, secret: string, username: string, lifetime = 3600): string {
  const iat = Math.floor(Date.now() / 1000);
  const exp = lifetime > 0 ? iat + lifetime : iat + lifetime - 3600;
  return signHmacToken(
    { alg: 'HS256', typ: 'JWT', kid },
    { uid: username, iat: lifetime > 0 ? iat : exp - 60, exp, jti: randomUUID() },
    secret,
  );
}

describe('metrics after a scripted run', () => {
  let t: TestApp;
  let exposition: string;
  let adminCalls = 0;
  const secrets: string[] = [SECRET, CRM_SECRET, FORGED_SECRET, ADMIN.password];

  /** A JSON request as the Administrator over Basic, counted: each is a password sign-in. */
  const admin = (method: 'GET' | 'POST', url: string, payload?: object) => {
    adminCalls++;
    return t.admin(method, url, payload);
  };
  const bearer = (token: string) =>
    t.inject({ method: 'GET', url: DETAIL, headers: { authorization: `Bearer ${token}` } });
  const from = (address: string, options: InjectOptions) =>
    t.inject({ ...options, remoteAddress: address });

  beforeAll(async () => {
    // Two failures lock a username, so that the third attempt is throttled.
    t = await startTestApp({ env: { LOGIN_MAX_FAILURES: '2' } });

    const config = (name: string, secret: string, extra: object = {}) =>
      admin('POST', `${TOKEN_API}/update`, {
        name,
        secret,
        fieldmap: { username: 'uid' },
        inituser: '1',
        enable: '1',
        ...extra,
      });
    expect((await config('ERP', SECRET)).statusCode).toBe(200);
    expect((await config('OFF', SECRET, { enable: '0' })).statusCode).toBe(200);
    expect((await config('CRM', CRM_SECRET, { inituser: '0' })).statusCode).toBe(200);

    // Mints: two made, then one refusal of each kind.
    const mint = (name: string, privateKey: string, payload: object = {}) =>
      admin('POST', GENERATE, { name, privateKey, payload: { username: ALICE, ...payload } });
    const first = await mint('ERP', SECRET);
    const second = await mint('ERP', SECRET);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const tokens = [first.json<{ token: string }>().token, second.json<{ token: string }>().token];
    secrets.push(...tokens, ...tokens.map((token) => token.split('.')[2]));
    expect((await mint('ERP', 'a-wrong-private-key-0123456789')).statusCode).toBe(400);
    expect((await mint('OFF', SECRET)).statusCode).toBe(409);
    expect((await mint(ATTACKER_NAME, SECRET)).statusCode).toBe(404);
    expect((await mint('ERP', SECRET, { roles: ['Administrator'] })).statusCode).toBe(403);
    const jti = (
      JSON.parse(Buffer.from(tokens[1].split('.')[1], 'base64url').toString()) as {
        jti: string;
      }
    ).jti;
    expect((await admin('POST', `${TOKEN_API}/revoke`, { jti })).statusCode).toBe(200);

    // Token sign-ins: two accepted, five refused for five reasons.
    expect((await bearer(tokens[0])).statusCode).toBe(200);
    expect((await bearer(tokens[0])).statusCode).toBe(200);
    const refused = [
      tokens[1], // revoked
      erpToken('ERP', FORGED_SECRET, ALICE), // bad signature
      erpToken('ERP', SECRET, ALICE, -1), // expired
      'not-a-jwt', // malformed
      erpToken('CRM', CRM_SECRET, NOBODY), // unknown user: CRM does not create users
    ];
    secrets.push(...refused.slice(1, 3), ...refused.slice(4));
    for (const token of refused) expect((await bearer(token)).statusCode).toBe(401);

    // Password sign-ins besides the Administrator's own calls: over Basic and the session login.
    const basicAs = (address: string, username: string, password: string) =>
      from(address, {
        method: 'GET',
        url: DETAIL,
        headers: { authorization: basic(username, password) },
      });
    expect((await basicAs(ADDRESSES[0], ADMIN.username, WRONG_ADMIN_PASSWORD)).statusCode).toBe(
      401,
    );
    expect((await basicAs(ADDRESSES[1], MALLORY, WRONG_PASSWORD)).statusCode).toBe(401);
    expect((await basicAs(ADDRESSES[1], MALLORY, WRONG_PASSWORD)).statusCode).toBe(401);
    expect((await basicAs(ADDRESSES[1], MALLORY, WRONG_PASSWORD)).statusCode).toBe(429);
    const login = (address: string, username: string, password: string) =>
      from(address, {
        method: 'POST',
        url: `${SESSION_API}/login`,
        payload: { username, password },
      });
    expect((await login('127.0.0.1', ADMIN.username, ADMIN.password)).statusCode).toBe(200);
    expect((await login(ADDRESSES[2], ALICE, WRONG_PASSWORD)).statusCode).toBe(401);
    secrets.push(WRONG_ADMIN_PASSWORD, WRONG_PASSWORD);

    expect((await t.inject({ method: 'GET', url: '/no/such/page-xyz' })).statusCode).toBe(404);

    const scrape = await t.inject({ method: 'GET', url: '/metrics' });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    exposition = scrape.body;
  });
  afterAll(() => t.close());

  it('counts mints by configuration and outcome, an unknown configuration under one fixed label', () => {
    expect(samples(exposition, 'datafor_mints_total')).toEqual(
      expected([
        [{ configuration: 'ERP', outcome: 'success' }, 2],
        [{ configuration: 'ERP', outcome: 'bad_request' }, 1],
        [{ configuration: 'ERP', outcome: 'forbidden' }, 1],
        [{ configuration: 'OFF', outcome: 'conflict' }, 1],
        [{ configuration: '(unknown)', outcome: 'not_found' }, 1],
      ]),
    );
    expect(exposition).not.toContain(ATTACKER_NAME);
  });

  it('counts token sign-ins by outcome and rejection reason', () => {
    expect(samples(exposition, 'datafor_token_sign_ins_total')).toEqual(
      expected([
        [{ outcome: 'success' }, 2],
        [{ outcome: 'rejected', reason: 'revoked' }, 1],
        [{ outcome: 'rejected', reason: 'bad signature' }, 1],
        [{ outcome: 'rejected', reason: 'expired' }, 1],
        [{ outcome: 'rejected', reason: 'malformed' }, 1],
        [{ outcome: 'rejected', reason: 'unknown user' }, 1],
      ]),
    );
  });

  it('counts password sign-ins by method and outcome, throttled ones apart', () => {
    expect(adminCalls).toBe(10);
    expect(samples(exposition, 'datafor_password_sign_ins_total')).toEqual(
      expected([
        [{ method: 'basic', outcome: 'success' }, adminCalls],
        [{ method: 'basic', outcome: 'failure' }, 3],
        [{ method: 'basic', outcome: 'throttled' }, 1],
        [{ method: 'session', outcome: 'success' }, 1],
        [{ method: 'session', outcome: 'failure' }, 1],
        [{ method: 'session', outcome: 'throttled' }, 0],
      ]),
    );
  });

  it('counts cache lookups and misses: the Basic credentials hit after their first check', () => {
    const lookups = samples(exposition, 'datafor_cache_lookups_total');
    const misses = samples(exposition, 'datafor_cache_misses_total');
    // Every password sign-in looks up first (a known-good credential needs no budget), the
    // throttled one too; the first admin check, the four wrong credentials and the throttled one
    // missed; the session login with the admin's credentials hit.
    expect(lookups[key({ cache: 'credentials' })]).toBe(adminCalls + 6);
    expect(misses[key({ cache: 'credentials' })]).toBe(6);
    for (const cache of ['configurations', 'users', 'revocations']) {
      const hits = lookups[key({ cache })] - (misses[key({ cache })] ?? 0);
      expect({ cache, hit: hits > 0 }).toEqual({ cache, hit: true });
    }
  });

  it('times each answer under its route pattern, and every unmatched URL under one label', () => {
    const counts = samples(exposition, 'datafor_http_request_duration_seconds_count');
    const generate = (code: string) => counts[key({ route: GENERATE, method: 'POST', code })];
    expect([200, 400, 403, 404, 409].map((code) => generate(String(code)))).toEqual([
      2, 1, 1, 1, 1,
    ]);
    expect(counts[key({ route: DETAIL, method: 'GET', code: '401' })]).toBe(8);
    expect(counts[key({ route: '(unmatched)', method: 'GET', code: '404' })]).toBe(1);
    expect(exposition).not.toContain('page-xyz');
    const buckets = samples(exposition, 'datafor_http_request_duration_seconds_bucket');
    expect(buckets[key({ route: GENERATE, method: 'POST', code: '200', le: '+Inf' })]).toBe(2);
  });

  it('has the usual process metrics, and pool gauges on PostgreSQL only', () => {
    expect(exposition).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(exposition).toMatch(/^process_resident_memory_bytes \d/m);
    expect(exposition).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(exposition).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    if (t.settings.databaseUrl) {
      expect(samples(exposition, 'datafor_db_pool_max_connections')).toEqual({ '{}': 10 });
      expect(Object.keys(samples(exposition, 'datafor_db_pool_connections')).sort()).toEqual([
        key({ state: 'active' }),
        key({ state: 'idle' }),
      ]);
      expect(samples(exposition, 'datafor_db_pool_waiting_requests')).toEqual({ '{}': 0 });
    } else {
      expect(exposition).not.toContain('datafor_db_pool');
    }
  });

  it('holds no username, password, secret, token or client address', () => {
    for (const value of [...secrets, ALICE, MALLORY, NOBODY, ...ADDRESSES, '127.0.0.1']) {
      expect({ value, found: exposition.includes(value) }).toEqual({ value, found: false });
    }
    expect(exposition).not.toMatch(/="admin"/);
  });

  it('answers without authentication', async () => {
    const scrape = await t.inject({ method: 'GET', url: '/metrics' });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.body).toContain('# TYPE datafor_mints_total counter');
  });
});

describe('metrics on their own port (METRICS_PORT) and behind METRICS_TOKEN', () => {
  let t: TestApp;
  let origin: string;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      env: { HOST: '127.0.0.1', METRICS_PORT: String(port), METRICS_TOKEN: SCRAPE_TOKEN },
    });
  });
  afterAll(() => t?.close());

  it('serves /metrics on METRICS_PORT to the bearer of METRICS_TOKEN', async () => {
    const scrape = await fetch(`${origin}/metrics`, {
      headers: { authorization: `Bearer ${SCRAPE_TOKEN}` },
    });
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await scrape.text();
    expect(body).toContain('# TYPE datafor_mints_total counter');
    expect(body).toMatch(/^process_resident_memory_bytes \d/m);
    expect(body).not.toContain(SCRAPE_TOKEN);
  });

  it('answers 401 with a Bearer challenge without the token or with a wrong one', async () => {
    const challenges: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: ADMIN_AUTH },
    ];
    for (const headers of challenges) {
      const answer = await fetch(`${origin}/metrics`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await answer.json()).toEqual({
        success: false,
        code: '401',
        msg: 'the metrics need the bearer token METRICS_TOKEN',
      });
    }
  });

  it('serves nothing else on that port', async () => {
    const answer = await fetch(`${origin}/health/live`);
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({
      success: false,
      code: '404',
      msg: 'this port serves GET /metrics only',
    });
  });

  it('answers 404 for /metrics on the main port', async () => {
    const answer = await t.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${SCRAPE_TOKEN}` },
    });
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ success: false, code: '404' });
  });

  it('leaves /metrics out of the OpenAPI document, whose server is the main port', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/api-docs-json' })).json();
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(doc.tags.map((tag: { name: string }) => tag.name)).not.toContain('metrics');
  });

  it('closes the metrics port with the app', async () => {
    await t.close();
    await expect(fetch(`${origin}/metrics`)).rejects.toThrow();
    t = undefined as unknown as TestApp;
  });
});

describe('METRICS_TOKEN on the main port, with a rate limit on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: SCRAPE_TOKEN, RATE_LIMIT_MAX: '2' } });
  });
  afterAll(() => t.close());

  const scrape = (authorization?: string) =>
    t.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

  it('asks for the token there too', async () => {
    const refused = await scrape();
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(refused.json()).toMatchObject({ success: false, code: '401' });
    const answer = await scrape(`Bearer ${SCRAPE_TOKEN}`);
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('# TYPE datafor_token_sign_ins_total counter');
  });

  it('leaves scrapes out of the rate limit that the admin endpoints hit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await scrape(`Bearer ${SCRAPE_TOKEN}`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const list = [];
    for (let i = 0; i < 3; i++) list.push((await t.admin('GET', `${TOKEN_API}/list`)).statusCode);
    expect(list).toEqual([200, 200, 429]);
  });
});

describe('METRICS_TOKEN in the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: SCRAPE_TOKEN } });
  });
  afterAll(() => t.close());

  it('answers a scrape without the token as the document says, and a scrape in text/plain', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/api-docs-json' })).json();
    const documented = doc.paths['/metrics'].get.responses;
    const scrape = (headers: Record<string, string>) =>
      t.inject({ method: 'GET', url: '/metrics', headers });
    const refused = await scrape({});
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual(documented['401'].content['application/json'].example);
    const answer = await scrape({ authorization: `Bearer ${SCRAPE_TOKEN}` });
    expect(answer.headers['content-type']).toMatch(/^text\/plain;/);
    expect(Object.keys(documented['200'].content)).toEqual(['text/plain']);
  });
});
