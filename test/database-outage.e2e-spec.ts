/**
 * Database outage: the real service (`node dist/main.js`, built by the pretest step) reaches
 * PostgreSQL through a TCP proxy owned by this test, which can fail the way a dead route does:
 * sockets stay open but nothing gets through, and nothing is reset. While it is frozen, API routes
 * must answer 503 with the envelope within about the configured timeouts (set short here), and
 * /health/ready 503; once new connections get through again, the service must work again within
 * seconds; and SIGTERM must still exit 0 with a request stuck on a frozen socket.
 *
 * Always runs on PostgreSQL, in the SQLite pass too: DATABASE_URL when set, else the server at
 * postgres://postgres@127.0.0.1:5432/test. It fails (never skips) when that server does not answer.
 */
import pg from 'pg';
import { PostgresClient } from '../src/app/database/postgres-client';
import { TOKEN_API, USER_API } from './support/api-paths';
import { REQUIRED_POSTGRES_URL } from './support/database';
import { type ProxiedPostgres, proxiedPostgres } from './support/proxied-postgres';
import {
  type ServiceProcess,
  sleep,
  startServiceProcess,
  stopServiceProcess,
  callService,
  type ServiceAnswer,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'outage-admin-password-1' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const SECRET = 'outage-suite-secret-0123456789abcdef';

/**
 * Short database timeouts (seconds), the query timeout long enough that waiting it twice shows.
 * SHUTDOWN_TIMEOUT as docs/security.md advises: above DB_CONNECT_TIMEOUT + DB_QUERY_TIMEOUT.
 */
const CONNECT_S = 1;
const QUERY_S = 3;
const SHUTDOWN_S = CONNECT_S + QUERY_S + 1;
const DB_ENV = {
  DB_CONNECT_TIMEOUT: String(CONNECT_S),
  DB_QUERY_TIMEOUT: String(QUERY_S),
  SHUTDOWN_TIMEOUT: String(SHUTDOWN_S),
};
/** docs/security.md's bound for a request during the outage, with slack for a busy machine. */
const OUTAGE_BOUND_MS = (CONNECT_S + QUERY_S) * 1000 + 800;
/** Past this a request counts as unanswered. */
const OUTAGE_ANSWER_MS = OUTAGE_BOUND_MS + 4_000;
/** SIGTERM rounds during an outage, each on a fresh process. */
const SHUTDOWN_ROUNDS = 3;
/** After the network heals, the service must answer 200 again within this. */
const RECOVERY_MS = 8_000;

type Answer = ServiceAnswer;

function call(
  service: ServiceProcess,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = OUTAGE_ANSWER_MS,
): Promise<Answer> {
  return callService(service.origin, AUTH, { method, path, body, timeoutMs });
}

const mint = (service: ServiceProcess, username: string) =>
  call(service, 'POST', `${TOKEN_API}/generate`, {
    name: 'OUTAGE',
    privateKey: SECRET,
    payload: { username },
  });

const UNAVAILABLE = {
  success: false,
  code: '503',
  msg: expect.stringContaining('the database is unavailable'),
};

describe('database outage: a half-open PostgreSQL connection (always on PostgreSQL)', () => {
  let db: ProxiedPostgres | undefined;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await proxiedPostgres('outage');
    service = await startServiceProcess({
      dataDir: db.dataDir,
      databaseUrl: db.url,
      admin: ADMIN,
      env: DB_ENV,
    });
  }, 30_000);

  afterAll(() => db?.close(service), 20_000);

  it('answers from the database while the network works', async () => {
    const created = await call(service!, 'POST', `${TOKEN_API}/update`, {
      name: 'OUTAGE',
      secret: SECRET,
      enable: '1',
      fieldmap: { username: 'uid', name: 'fullName', email: 'mail' },
    });
    expect(created).toMatchObject({ status: 200, body: { success: true } });
    // Several at once, so that the pool holds more than one connection when the network freezes.
    const answers = await Promise.all([
      mint(service!, 'before-1'),
      mint(service!, 'before-2'),
      call(service!, 'GET', `${TOKEN_API}/list`),
      call(service!, 'GET', `${USER_API}/list`),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect((await call(service!, 'GET', '/health/ready')).status).toBe(200);
  });

  it('answers 503 with the envelope within DB_CONNECT_TIMEOUT + DB_QUERY_TIMEOUT while the network is frozen', async () => {
    const timed = async (request: () => Promise<Answer>) => {
      const started = Date.now();
      const answer = await request();
      return { answer, ms: Date.now() - started };
    };
    // Mints for a known user (its configuration and user cached: the audit record is the only
    // query) sent 300 ms apart: each record's write must not queue behind the one before it.
    const warm = await Promise.all(Array.from({ length: 4 }, () => mint(service!, 'before-1')));
    expect(warm.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    db!.proxy.freeze();
    const staggered = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        await sleep(300 * i);
        return timed(() => mint(service!, 'before-1'));
      }),
    );
    for (const { answer } of staggered) expect(answer.status).toBe(503);
    const slowestMint = Math.max(...staggered.map((result) => result.ms));
    expect({ slowestMint, withinBound: slowestMint <= OUTAGE_BOUND_MS }).toEqual({
      slowestMint,
      withinBound: true,
    });
    // More requests than the pool has connections (10 by default), so that every pooled
    // connection meets the frozen network and some requests wait for one. A mint for a new user
    // makes several queries (configuration, user lookup, user insert, audit record): together
    // they must keep to the one bound.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        timed(
          [
            () => mint(service!, `frozen-${i}`),
            () => call(service!, 'GET', `${TOKEN_API}/list`),
            () => call(service!, 'GET', `${USER_API}/list`),
          ][i % 3],
        ),
      ),
    );
    for (const { answer } of results) {
      expect(answer).toEqual({ status: 503, body: UNAVAILABLE, retryAfter: expect.any(String) });
    }
    const slowest = Math.max(...results.map((result) => result.ms));
    expect({ slowest, withinBound: slowest <= OUTAGE_BOUND_MS }).toEqual({
      slowest,
      withinBound: true,
    });
    // Until a probe (a new connection, once a second) gets through, requests are refused at once.
    const again = await timed(() => call(service!, 'GET', `${TOKEN_API}/list`));
    expect(again.answer).toEqual({
      status: 503,
      body: UNAVAILABLE,
      retryAfter: expect.any(String),
    });
    expect(again.ms).toBeLessThan(1_000);
    for (let waited = 0; db!.proxy.blackholed === 0 && waited < 3_000; waited += 100)
      await sleep(100);
    expect(db!.proxy.blackholed).toBeGreaterThan(0);
    expect((await call(service!, 'GET', '/health/ready')).status).toBe(503);
  }, 40_000);

  it('works again within seconds once new connections get through', async () => {
    await db!.proxy.heal();
    const deadline = Date.now() + RECOVERY_MS;
    const seen: number[] = [];
    let last: Answer | undefined;
    while (Date.now() < deadline) {
      last = await call(service!, 'GET', `${TOKEN_API}/list`);
      seen.push(last.status);
      if (last.status === 200) break;
      await sleep(100);
    }
    // On the way back, only 503s: never a 500, never a hang.
    expect(seen.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    expect(last?.status).toBe(200);
    const minted = await mint(service!, 'after');
    expect(minted).toMatchObject({
      status: 200,
      body: { success: true, token: expect.any(String) },
    });
    expect((await call(service!, 'GET', '/health/ready')).status).toBe(200);
  }, 20_000);

  for (let round = 1; round <= SHUTDOWN_ROUNDS; round++) {
    it(`exits 0 within SHUTDOWN_TIMEOUT on SIGTERM with requests stuck on frozen connections (round ${round})`, async () => {
      if (round > 1) {
        await db!.proxy.heal();
        service = await startServiceProcess({
          dataDir: db!.dataDir,
          databaseUrl: db!.url,
          admin: ADMIN,
          env: DB_ENV,
        });
      }
      // Several connections in the pool, then frozen: one mint's audit record in flight, more
      // queued behind it, idle connections the pool must end.
      const warm = await Promise.all(
        Array.from({ length: 4 }, (_, i) => mint(service!, `warm-${round}-${i}`)),
      );
      expect(warm.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      db!.proxy.freeze();
      const stuck = Array.from({ length: 4 }, async (_, i) => {
        await sleep(150 * i);
        return mint(service!, `warm-${round}-0`).then(
          (answer) => answer.status,
          () => 'no answer',
        );
      });
      await sleep(500);
      const sent = Date.now();
      const exit = await stopServiceProcess(service!, 'SIGTERM', SHUTDOWN_S * 1000 + 5_000);
      const waited = Date.now() - sent;
      expect(exit).toEqual({ code: 0, signal: null });
      expect({ waited, withinTimeout: waited <= SHUTDOWN_S * 1000 + 500 }).toEqual({
        waited,
        withinTimeout: true,
      });
      // The requests in flight were answered 503 before the server closed, or cut by the exit.
      for (const status of await Promise.all(stuck)) expect([503, 'no answer']).toContain(status);
    }, 40_000);
  }
});

describe('a pooled PostgreSQL client whose session the server ends (always on PostgreSQL)', () => {
  it('survives the termination between queries and fails its next query instead', async () => {
    const client = new PostgresClient(REQUIRED_POSTGRES_URL);
    const admin = new pg.Client(REQUIRED_POSTGRES_URL);
    await Promise.all([client.connect(), admin.connect()]);
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((done) => client.once('end', done));
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
    } finally {
      await admin.end();
    }
  });
});
