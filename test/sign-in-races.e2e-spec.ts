/**
 * Sign-in defences under concurrency (issue 17, points 1 and 2): guesses sent all at once must
 * meet the same budgets as guesses sent one by one, in process memory and in Redis shared by a
 * fleet; and a flood of password checks from one address must not stall another's sign-in.
 * The Redis part needs Redis (REDIS_URL, else 127.0.0.1:6379) and fails, never skips, without it.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { connectRedis, REDIS_URL } from './support/redis';
import { AuditEventEntity, type AuditOutcome } from '../src/audit/entities/audit-event.entity';
import {
  ADMIN,
  basic,
  SESSION_API,
  startTestApp,
  TestApp,
  TOKEN_API,
  USER_API,
} from './support/test-app';

const BUDGET = 10;
const THROTTLED = { LOGIN_MAX_FAILURES: String(BUDGET), LOGIN_FAILURE_WINDOW: '900' };

const basicCall = (t: TestApp, username: string, password: string, address: string) =>
  t.inject({
    method: 'GET',
    url: `${TOKEN_API}/list`,
    headers: { authorization: basic(username, password) },
    remoteAddress: address,
  });

const login = (t: TestApp, username: string, password: string, address: string) =>
  t.inject({
    method: 'POST',
    url: `${SESSION_API}/login`,
    payload: { username, password },
    remoteAddress: address,
  });

function statuses(answers: LightMyRequestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const answer of answers) counts[answer.statusCode] = (counts[answer.statusCode] ?? 0) + 1;
  return counts;
}

/** The audit rows of one action and outcome for a username: one per password actually checked. */
function auditRows(t: TestApp, action: string, target: string, outcome?: AuditOutcome) {
  return t.dataSource
    .getRepository(AuditEventEntity)
    .countBy({ action, target, ...(outcome ? { outcome } : {}) });
}

describe('concurrent guesses on one instance', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: THROTTLED });
    // The owner signed in from the office before the attack.
    expect((await login(t, ADMIN.username, ADMIN.password, '10.9.0.1')).statusCode).toBe(200);
    for (const [username, password, usertype] of [
      ['carol', 'carol-password-1', 'SYS_Reader'],
      ['dave', 'dave-password-1', 'SYS_Reader'],
      ['erp-service', 'erp-service-password-1', 'Administrator'],
      ['frank', 'frank-password-1', 'SYS_Reader'],
    ]) {
      const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username,
        password,
        usertype,
      });
      expect(created.statusCode).toBe(200);
    }
  });
  afterAll(() => t.close());

  it('checks at most LOGIN_MAX_FAILURES of 400 Basic guesses sent at once from one address, and locks once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        basicCall(t, ADMIN.username, `guess-${i}`, '203.0.113.7'),
      ),
    );
    expect(statuses(answers)).toEqual({ 401: BUDGET, 429: 400 - BUDGET });
    for (const refused of answers.filter((a) => a.statusCode === 429)) {
      expect(refused.json()).toEqual({
        success: false,
        code: '429',
        msg: 'too many failed sign-ins: try again later',
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await auditRows(t, 'auth.basic', ADMIN.username, 'failure')).toBe(BUDGET);
    expect(await auditRows(t, 'auth.lock', ADMIN.username)).toBe(1);
    // The right password from the attacker's address is refused; the owner's office still works.
    expect((await basicCall(t, ADMIN.username, ADMIN.password, '203.0.113.7')).statusCode).toBe(
      429,
    );
    expect((await login(t, ADMIN.username, ADMIN.password, '10.9.0.1')).statusCode).toBe(200);
  });

  it('checks at most LOGIN_MAX_FAILURES of 400 guesses at once from 400 addresses', async () => {
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        login(t, 'carol', `guess-${i}`, `198.51.${100 + (i >> 8)}.${i & 255}`),
      ),
    );
    expect(statuses(answers)).toEqual({ 401: BUDGET, 429: 400 - BUDGET });
    expect(await auditRows(t, 'session.login', 'carol', 'failure')).toBe(BUDGET);
    expect(await auditRows(t, 'auth.lock', 'carol')).toBe(1);
  });

  it('checks the password once for 60 requests at once with the same right credentials (a cold cache)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        basicCall(t, 'erp-service', 'erp-service-password-1', '10.9.0.60'),
      ),
    );
    expect(statuses(answers)).toEqual({ 200: 60 });
    expect(await auditRows(t, 'auth.basic', 'erp-service', 'success')).toBe(1);
  });

  it('checks the same wrong password once for 60 requests at once, answering and auditing each', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => login(t, 'frank', 'the-same-guess', '10.9.0.61')),
    );
    expect(statuses(answers)).toEqual({ 401: 60 });
    expect(await auditRows(t, 'session.login', 'frank', 'failure')).toBe(60);
    // One unit of the budgets: nine more guesses from there are checked, then refused.
    const more = [];
    for (let i = 0; i < 10; i++) more.push(await login(t, 'frank', `guess-${i}`, '10.9.0.61'));
    expect(statuses(more)).toEqual({ 401: 9, 429: 1 });
  });

  it('checks at most LOGIN_MAX_FAILURES of 80 session logins at once, and refuses the rest unchecked', async () => {
    const answers = await Promise.all(
      Array.from({ length: 80 }, (_, i) => login(t, 'dave', `guess-${i}`, '192.0.2.80')),
    );
    expect(statuses(answers)).toEqual({ 401: BUDGET, 429: 80 - BUDGET });
    expect(await auditRows(t, 'session.login', 'dave', 'failure')).toBe(BUDGET);
  });
});

describe('a flood of password checks from one address', () => {
  let t: TestApp;

  afterEach(() => t.close());

  /**
   * 600 Basic calls with made-up names on user/detail, and a first sign-in from elsewhere
   * meanwhile; with what a first sign-in takes on this machine when nothing else runs.
   */
  async function floodAndSignIn(env: Record<string, string>) {
    t = await startTestApp({ env });
    const quietMs: number[] = [];
    for (const username of ['erin', 'quiet-1', 'quiet-2', 'quiet-3']) {
      const created = await t.admin('POST', `${USER_API}/insertOrUpdate`, {
        username,
        password: `${username}-password-1`,
      });
      expect(created.statusCode).toBe(200);
      if (username === 'erin') continue;
      const started = Date.now();
      expect((await login(t, username, `${username}-password-1`, '10.20.30.41')).statusCode).toBe(
        200,
      );
      quietMs.push(Date.now() - started);
    }
    const flood = Array.from({ length: 600 }, (_, i) =>
      t.inject({
        method: 'GET',
        url: `${USER_API}/detail`,
        headers: { authorization: basic(`made-up-${i}`, 'whatever-password') },
        remoteAddress: '203.0.113.66',
      }),
    );
    // Once the flood's requests are under way.
    await new Promise((done) => setImmediate(done));
    const started = Date.now();
    const signIn = await login(t, 'erin', 'erin-password-1', '10.20.30.40');
    const signInMs = Date.now() - started;
    return {
      signIn,
      signInMs,
      quietMs: quietMs.sort((a, b) => a - b)[1],
      flood: await Promise.all(flood),
    };
  }

  /**
   * 1 s, the goal, where a quiet first sign-in takes its usual ~100 ms; on a machine so busy that
   * it takes longer, 10 of them. Without the bounds, the sign-in waited for all 600 checks.
   */
  const withinOneSecond = (quietMs: number) => Math.max(1000, 10 * quietMs);

  it('is cut by the address budget, and a sign-in from elsewhere answers within 1 s', async () => {
    const { signIn, signInMs, quietMs, flood } = await floodAndSignIn(THROTTLED);
    expect(signIn.statusCode).toBe(200);
    expect(signInMs).toBeLessThan(withinOneSecond(quietMs));
    // The address's budget, then one try in its slot: every other guess refused unchecked.
    expect(statuses(flood)).toEqual({ 401: BUDGET + 1, 429: 600 - BUDGET - 1 });
  }, 60_000);

  it('is queued fairly when the budgets are off: a sign-in from elsewhere still answers within 1 s', async () => {
    const { signIn, signInMs, quietMs, flood } = await floodAndSignIn({
      LOGIN_MAX_FAILURES: '0',
      PASSWORD_HASH_QUEUE: '16',
    });
    expect(signIn.statusCode).toBe(200);
    expect(signInMs).toBeLessThan(withinOneSecond(quietMs));
    const counts = statuses(flood);
    // What did not fit in the address's queue was refused at once, with the envelope.
    expect(counts[429]).toBeGreaterThan(500);
    expect(counts[401] + counts[429]).toBe(600);
    const refused = flood.find((a) => a.statusCode === 429)!;
    expect(refused.json()).toEqual({
      success: false,
      code: '429',
      msg: 'too many sign-ins in progress from this address: try again shortly',
    });
    expect(refused.headers['retry-after']).toBe('1');
  }, 60_000);
});

describe('concurrent guesses across two instances sharing Redis', () => {
  const prefix = `datafor-test-${randomBytes(6).toString('hex')}:`;
  let redis: Redis;
  let apps: TestApp[] = [];

  beforeAll(async () => {
    redis = await connectRedis();
    const env = { ...THROTTLED, REDIS_URL, REDIS_PREFIX: prefix };
    apps = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
  });
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('checks at most LOGIN_MAX_FAILURES of 400 guesses split over both, and locks once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        basicCall(apps[i % 2], ADMIN.username, `guess-${i}`, '203.0.113.9'),
      ),
    );
    expect(statuses(answers)).toEqual({ 401: BUDGET, 429: 400 - BUDGET });
    const failures = await Promise.all(
      apps.map((t) => auditRows(t, 'auth.basic', ADMIN.username, 'failure')),
    );
    expect(failures[0] + failures[1]).toBe(BUDGET);
    const locks = await Promise.all(apps.map((t) => auditRows(t, 'auth.lock', ADMIN.username)));
    expect(locks[0] + locks[1]).toBe(1);
    // The counts live in Redis, under this run's prefix.
    expect((await redis.keys(`${prefix}login*`)).length).toBeGreaterThan(0);
  });
});
