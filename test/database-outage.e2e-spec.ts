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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresClient } from '../src/database/postgres-client';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './support/database';
import { TcpProxy } from './support/tcp-proxy';
import {
  alive,
  type ServiceProcess,
  sleep,
  startServiceProcess,
  stopServiceProcess,
  callService,
  type ServiceAnswer,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'outage-admin-password-1' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const TOKEN_API = '/plugin/datafor-modeler/api/token';
const USER_API = '/plugin/datafor-modeler/api/user';
const SECRET = 'outage-suite-secret-0123456789abcdef';

/** Short database timeouts (seconds), so that the whole file stays well under 40 s. */
const DB_ENV = { DB_CONNECT_TIMEOUT: '1', DB_QUERY_TIMEOUT: '1', SHUTDOWN_TIMEOUT: '5' };
/** A request during the outage must be answered within this (connect + query timeouts, and slack). */
const OUTAGE_ANSWER_MS = 5_000;
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
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let proxy: TcpProxy | undefined;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-outage-'));
    postgres = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
    const direct = new URL(postgres.url);
    proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(postgres.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(await proxy.listen());
    service = await startServiceProcess({
      dataDir,
      databaseUrl: proxied.toString(),
      admin: ADMIN,
      env: DB_ENV,
    });
  }, 30_000);

  afterAll(async () => {
    if (service && alive(service.child)) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await proxy?.close();
    await postgres?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 20_000);

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

  it('answers 503 with the envelope within the timeouts while the network is frozen', async () => {
    proxy!.freeze();
    // More requests than the pool has connections (10 by default), so that every pooled
    // connection meets the frozen network and some requests wait for one.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        [
          () => mint(service!, `frozen-${i}`),
          () => call(service!, 'GET', `${TOKEN_API}/list`),
          () => call(service!, 'GET', `${USER_API}/list`),
        ][i % 3](),
      ),
    );
    for (const answer of answers) {
      expect(answer).toEqual({ status: 503, body: UNAVAILABLE, retryAfter: expect.any(String) });
    }
    // A second round meets connections opened while frozen, which never get through.
    const again = await call(service!, 'GET', `${TOKEN_API}/list`);
    expect(again).toEqual({ status: 503, body: UNAVAILABLE, retryAfter: expect.any(String) });
    expect(proxy!.blackholed).toBeGreaterThan(0);
    expect((await call(service!, 'GET', '/health/ready')).status).toBe(503);
  }, 25_000);

  it('works again within seconds once new connections get through', async () => {
    await proxy!.heal();
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

  it('exits 0 on SIGTERM with a request stuck on a frozen connection', async () => {
    proxy!.freeze();
    const stuck = mint(service!, 'at-shutdown').then(
      (answer) => answer.status,
      () => 'no answer',
    );
    await sleep(200);
    const exit = await stopServiceProcess(service!, 'SIGTERM', 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // The request in flight was answered 503 before the server closed, or cut by the exit.
    expect([503, 'no answer']).toContain(await stuck);
  }, 20_000);
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
