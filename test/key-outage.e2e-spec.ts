/**
 * Key changes and audit pruning while PostgreSQL fails: the built service (`node dist/main.js`)
 * reaches its database through a TCP proxy owned by this test, which is stopped (connections
 * reset, new ones refused) or frozen (open connections forward nothing, new ones are held open and
 * never answered: a black hole). Hundreds of concurrent rotations, retirements, saves, mints and
 * JWKS reads must each answer 503 with the envelope within the outage bound (JWKS: 503, or the set
 * it last read), change nothing stored, and the keys of before must work again once the database
 * answers. A pruning pass caught by a frozen database must not hold SIGTERM past SHUTDOWN_TIMEOUT.
 *
 * Always runs on PostgreSQL, in the SQLite pass too: DATABASE_URL when set, else the server at
 * postgres://postgres@127.0.0.1:5432/test. It fails (never skips) when that server does not answer.
 */
import { createHmac } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { TOKEN_API, USER_API } from './support/api-paths';
import { type ProxiedPostgres, proxiedPostgres } from './support/proxied-postgres';
import {
  callService,
  type ServiceAnswer,
  type ServiceProcess,
  sleep,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'key-outage-admin-password-1' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const OLD = 'key-outage-old-secret-0123456789abcdef';
const NEW = 'key-outage-new-secret-0123456789abcdef';
const NEWER = 'key-outage-newer-secret-0123456789abcd';
const CREDENTIAL = 'key-outage-credential-0123456789abcdef';

const CONNECT_S = 1;
const QUERY_S = 3;
const SHUTDOWN_S = CONNECT_S + QUERY_S + 1;
const DB_ENV = {
  DB_CONNECT_TIMEOUT: String(CONNECT_S),
  DB_QUERY_TIMEOUT: String(QUERY_S),
  SHUTDOWN_TIMEOUT: String(SHUTDOWN_S),
  JWKS_MAX_AGE: '1',
  // One test client sends them all: the cap on one address's connections (100) is not under test.
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0',
};
/** security.md's bound for a request during an outage, with slack for a busy machine. */
const OUTAGE_BOUND_MS = (CONNECT_S + QUERY_S) * 1000 + 800;
const ANSWER_MS = OUTAGE_BOUND_MS + 4_000;
const RECOVERY_MS = 8_000;
/** Concurrent requests sent at once during each outage. */
const CONCURRENT = 200;

const UNAVAILABLE = {
  success: false,
  code: '503',
  msg: expect.stringContaining('the database is unavailable'),
};

interface Timed {
  answer: ServiceAnswer | { status: 'no answer'; error: string };
  ms: number;
}

async function timed(request: () => Promise<ServiceAnswer>): Promise<Timed> {
  const started = Date.now();
  const answer = await request().catch((error: Error) => ({
    status: 'no answer' as const,
    error: `${error.message}: ${String((error as { cause?: unknown }).cause)}`,
  }));
  return { answer, ms: Date.now() - started };
}

describe('key changes during a PostgreSQL outage, stopped then frozen (always on PostgreSQL)', () => {
  let db: ProxiedPostgres | undefined;
  let service: ServiceProcess | undefined;
  /** What `content` showed of each configuration's keys before the outages. */
  let keysBefore: Record<'ERP' | 'BI', unknown>;
  /** Tokens minted before the outages: one of ERP's previous key, one of its current key, one of BI. */
  let tokens: { previous: string; current: string; service: string };

  const call = (method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = ANSWER_MS) =>
    callService(service!.origin, AUTH, { method, path, body, timeoutMs });
  const mint = (name: string, privateKey: string, username = 'alice') =>
    call('POST', `${TOKEN_API}/generate`, { name, privateKey, payload: { username } });
  const keysOf = async (name: string) =>
    (await call('GET', `${TOKEN_API}/content?name=${name}`)).body.keys;
  const signsIn = async (token: string) =>
    (
      await callService(service!.origin, `Bearer ${token}`, {
        method: 'GET',
        path: `${USER_API}/detail`,
        timeoutMs: ANSWER_MS,
      })
    ).status;

  /** Every kind of key change, plus the mints and JWKS reads beside them, `CONCURRENT` in all. */
  const storm = () =>
    Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        timed(
          [
            () => call('POST', `${TOKEN_API}/rotate`, { name: 'ERP', secret: NEWER, overlap: 60 }),
            () => call('POST', `${TOKEN_API}/rotate`, { name: 'BI' }),
            () => call('POST', `${TOKEN_API}/retire`, { name: 'ERP' }),
            () =>
              call('POST', `${TOKEN_API}/update`, {
                name: 'ERP',
                secret: NEWER,
                enable: '1',
                fieldmap: { username: 'uid' },
              }),
            () => mint('ERP', NEW, `outage-${i}`),
            () => call('GET', '/.well-known/jwks.json'),
          ][i % 6],
        ),
      ),
    );

  /** Each answer is a 503 envelope within the bound; a JWKS read may answer the set it holds. */
  const expectRefused = (results: Timed[]) => {
    const published = (keysBefore.BI as { kid: string }[]).map((key) => key.kid);
    for (const [i, { answer }] of results.entries()) {
      if (i % 6 === 5 && answer.status === 200) {
        const keys = (answer as ServiceAnswer).body.keys as { kid: string }[];
        expect(keys.map((key) => key.kid)).toEqual(published);
        continue;
      }
      expect(answer).toEqual({ status: 503, body: UNAVAILABLE, retryAfter: expect.any(String) });
    }
    const slowest = Math.max(...results.map((result) => result.ms));
    expect({ slowest, withinBound: slowest <= OUTAGE_BOUND_MS }).toEqual({
      slowest,
      withinBound: true,
    });
  };

  /** Once new connections get through, the service answers 200 again, with only 503s on the way. */
  const recover = async () => {
    await db!.proxy.heal();
    const deadline = Date.now() + RECOVERY_MS;
    const seen: (number | string)[] = [];
    let last: number | string = 'none';
    while (Date.now() < deadline) {
      last = (await timed(() => call('GET', `${TOKEN_API}/list`))).answer.status;
      seen.push(last);
      if (last === 200) break;
      await sleep(100);
    }
    expect(seen.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    expect(last).toBe(200);
  };

  /** Nothing the refused requests asked for was stored, and the keys of before still work. */
  const expectUnchanged = async () => {
    expect({ ERP: await keysOf('ERP'), BI: await keysOf('BI') }).toEqual(keysBefore);
    expect(await signsIn(tokens.previous)).toBe(200);
    expect(await signsIn(tokens.current)).toBe(200);
    expect(await signsIn(tokens.service)).toBe(200);
    // Either live secret still mints, with the current key, and the newer secret never does.
    for (const secret of [OLD, NEW]) {
      const minted = await mint('ERP', secret);
      expect(minted.status).toBe(200);
      const token = minted.body.token as string;
      await jwtVerify(token, new TextEncoder().encode(NEW), { algorithms: ['HS256'] });
    }
    expect((await mint('ERP', NEWER)).status).toBe(400);
  };

  beforeAll(async () => {
    db = await proxiedPostgres('key-outage');
    service = await startServiceProcess({
      dataDir: db.dataDir,
      databaseUrl: db.url,
      admin: ADMIN,
      env: DB_ENV,
    });
  }, 30_000);

  afterAll(() => db?.close(service), 20_000);

  it('holds an HS256 configuration in its overlap and a service-held RS256 one while the database answers', async () => {
    const saved = await Promise.all([
      call('POST', `${TOKEN_API}/update`, {
        name: 'ERP',
        secret: OLD,
        enable: '1',
        expire: 3600,
        fieldmap: { username: 'uid' },
      }),
      call('POST', `${TOKEN_API}/update`, {
        name: 'BI',
        algorithm: 'RS256',
        keyholder: 'service',
        secret: CREDENTIAL,
        enable: '1',
      }),
    ]);
    expect(saved.map((answer) => answer.status)).toEqual([200, 200]);
    const previous = (await mint('ERP', OLD)).body.token as string;
    const rotated = await call('POST', `${TOKEN_API}/rotate`, {
      name: 'ERP',
      secret: NEW,
      overlap: 3600,
    });
    expect(rotated).toMatchObject({
      status: 200,
      body: { success: true, previous: { kid: 'ERP' } },
    });
    const current = (await mint('ERP', NEW)).body.token as string;
    expect(decodeProtectedHeader(current).kid).toBe(rotated.body.kid);
    // Checked here with an HMAC of this test's own, not the service's code.
    const [header, payload, signature] = previous.split('.');
    expect(createHmac('sha256', OLD).update(`${header}.${payload}`).digest('base64url')).toBe(
      signature,
    );
    const service_ = (await mint('BI', CREDENTIAL)).body.token as string;
    expect(decodeProtectedHeader(service_).alg).toBe('RS256');
    tokens = { previous, current, service: service_ };
    keysBefore = { ERP: await keysOf('ERP'), BI: await keysOf('BI') };
    expect(keysBefore.ERP).toHaveLength(2);
    expect(keysBefore.BI).toHaveLength(1);
    expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200);
    await expectUnchanged();
  });

  it(`answers ${CONCURRENT} concurrent key changes, mints and JWKS reads 503 within the bound while the database is stopped, and changes nothing`, async () => {
    await db!.proxy.stop();
    expectRefused(await storm());
    expect((await call('GET', '/health/ready')).status).toBe(503);
    await recover();
    await expectUnchanged();
  }, 60_000);

  it(`answers ${CONCURRENT} concurrent key changes, mints and JWKS reads 503 within the bound while the database is frozen, and changes nothing`, async () => {
    // Connections in the pool first, so that the freeze catches some of them open.
    const warm = await Promise.all(
      Array.from({ length: 6 }, (_, i) => mint('ERP', NEW, `warm-${i}`)),
    );
    expect(warm.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    db!.proxy.freeze();
    expectRefused(await storm());
    for (let waited = 0; db!.proxy.blackholed === 0 && waited < 3_000; waited += 100)
      await sleep(100);
    expect(db!.proxy.blackholed).toBeGreaterThan(0);
    expect((await call('GET', '/health/ready')).status).toBe(503);
    await recover();
    await expectUnchanged();
  }, 60_000);
});

describe('audit pruning caught by a frozen PostgreSQL (always on PostgreSQL)', () => {
  /** Rows older than the retention, enough for a pass of many seconds at its quiet pace. */
  const OLD_ROWS = 60_000;
  let db: ProxiedPostgres | undefined;
  let service: ServiceProcess | undefined;

  const countOld = async () => {
    const client = new pg.Client({ connectionString: db!.directUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_events WHERE actor = 'pruned-by-test'`,
      );
      return Number(rows[0].n);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await proxiedPostgres('prune-outage');
    // A first start runs the migrations, then the old rows go in behind its back.
    service = await startServiceProcess({
      dataDir: db.dataDir,
      databaseUrl: db.url,
      admin: ADMIN,
      env: DB_ENV,
    });
    expect(await stopServiceProcess(service)).toEqual({ code: 0, signal: null });
    const client = new pg.Client({ connectionString: db.directUrl });
    await client.connect();
    try {
      const twoMonthsAgo = Date.now() - 60 * 86_400_000;
      await client.query(
        `INSERT INTO audit_events (at, actor, action, target, client, outcome)
         SELECT $1::bigint + n, 'pruned-by-test', 'token.generate', 'ERP/user-' || n, '127.0.0.1', 'success'
         FROM generate_series(1, $2::int) AS n`,
        [twoMonthsAgo, OLD_ROWS],
      );
    } finally {
      await client.end();
    }
  }, 60_000);

  afterAll(() => db?.close(service), 20_000);

  it('exits 0 within SHUTDOWN_TIMEOUT on SIGTERM with a batch stuck on a frozen connection, and the next start prunes on', async () => {
    const env = { ...DB_ENV, AUDIT_RETENTION_DAYS: '30', AUDIT_PRUNE_INTERVAL: '1' };
    service = await startServiceProcess({
      dataDir: db!.dataDir,
      databaseUrl: db!.url,
      admin: ADMIN,
      env,
    });
    // Wait for the pass to have taken some rows, then freeze it mid-pass.
    const deadline = Date.now() + 20_000;
    let left = OLD_ROWS;
    while (left === OLD_ROWS && Date.now() < deadline) {
      await sleep(200);
      left = await countOld();
    }
    expect(left).toBeLessThan(OLD_ROWS);
    expect(left).toBeGreaterThan(0);
    db!.proxy.freeze();
    await sleep(500);
    const sent = Date.now();
    const exit = await stopServiceProcess(service, 'SIGTERM', SHUTDOWN_S * 1000 + 5_000);
    const waited = Date.now() - sent;
    expect(exit).toEqual({ code: 0, signal: null });
    expect({ waited, withinTimeout: waited <= SHUTDOWN_S * 1000 + 500 }).toEqual({
      waited,
      withinTimeout: true,
    });

    // Nothing was lost or half-done by the cut: the next start goes on from where it stopped.
    await db!.proxy.heal();
    const stoppedAt = await countOld();
    expect(stoppedAt).toBeLessThanOrEqual(left);
    service = await startServiceProcess({
      dataDir: db!.dataDir,
      databaseUrl: db!.url,
      admin: ADMIN,
      env,
    });
    const again = Date.now() + 20_000;
    let now = stoppedAt;
    while (now === stoppedAt && Date.now() < again) {
      await sleep(200);
      now = await countOld();
    }
    expect(now).toBeLessThan(stoppedAt);
    expect(await stopServiceProcess(service)).toEqual({ code: 0, signal: null });
  }, 90_000);
});
