/**
 * A bounded soak of the real service (`node dist/main.js`, built by the pretest step) on
 * loopback: 64 keep-alive connections cycling mint (POST token/generate, Basic), list (GET
 * token/list, Basic) and login (POST auth/login, form) for SOAK_SECONDS (10 by default; the full
 * soak is `SOAK_SECONDS=30 npm run test:e2e -- --testPathPatterns soak`). It must answer only
 * 2xx, drop no connection, time nothing out, and keep its memory flat: the child's RSS at the
 * end below 1.5 x its RSS after the warm-up, plus 30 MB. Runs on SQLite, or on PostgreSQL when
 * DATABASE_URL is set.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SESSION_API, TOKEN_API } from './support/api-paths';
import { createPostgresDatabase, databaseKind, POSTGRES_URL } from './support/database';
import { verifyHmacToken } from './support/jwt';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'soak-admin-password-1' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const LOGIN = `${SESSION_API}/login`;
const SECRET = 'soak-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

const CONNECTIONS = 64;
const SOAK_SECONDS = parseSoakSeconds(process.env.SOAK_SECONDS);
const WARMUP_SECONDS = 3;
const MB = 1024 * 1024;

function parseSoakSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 10;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
    throw new Error('SOAK_SECONDS must be a whole number of seconds from 1 to 3600');
  return seconds;
}

/** The resident set size of a process, in bytes, from /proc/<pid>/status (VmRSS). */
function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

type Kind = 'mint' | 'list' | 'login';

describe(`soak: ${CONNECTIONS} connections of mixed mint/list/login (${databaseKind()})`, () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let service: ServiceProcess | undefined;
  let origin: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-soak-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
    service = await startServiceProcess({ dataDir, databaseUrl: postgres?.url, admin: ADMIN });
    origin = service.origin;
    const created = await fetch(`${origin}${TOKEN_API}/update`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'SOAK',
        secret: SECRET,
        enable: '1',
        fieldmap: { username: 'uid' },
      }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(created.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (service) await stopServiceProcess(service);
    await postgres?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** One autocannon run of the mixed requests; statuses counted per kind of request. */
  async function load(seconds: number) {
    const statuses: Record<Kind, Record<number, number>> = { mint: {}, list: {}, login: {} };
    const count = (kind: Kind) => (status: number) => {
      statuses[kind][status] = (statuses[kind][status] ?? 0) + 1;
    };
    const result = await autocannon({
      url: origin,
      connections: CONNECTIONS,
      duration: seconds,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: `${TOKEN_API}/generate`,
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'SOAK',
            privateKey: SECRET,
            payload: { username: 'soak-user', roles: ['Manager'] },
          }),
          onResponse: count('mint'),
        },
        {
          method: 'GET',
          path: `${TOKEN_API}/list`,
          headers: { authorization: AUTH },
          onResponse: count('list'),
        },
        {
          method: 'POST',
          path: LOGIN,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(ADMIN).toString(),
          onResponse: count('login'),
        },
      ],
    });
    return { result, statuses };
  }

  it(
    `serves ${SOAK_SECONDS} s of load with only 2xx, no dropped connection, memory flat`,
    async () => {
      const pid = service!.child.pid!;
      await load(WARMUP_SECONDS);
      const rssStart = rss(pid);
      let rssPeak = rssStart;
      const sampler = setInterval(() => {
        try {
          rssPeak = Math.max(rssPeak, rss(pid));
        } catch {
          // The process is gone: the checks below say so.
        }
      }, 500);
      let run: Awaited<ReturnType<typeof load>>;
      try {
        run = await load(SOAK_SECONDS);
      } finally {
        clearInterval(sampler);
      }
      const { result, statuses } = run;
      expect(service!.child.exitCode).toBeNull();
      expect(service!.child.signalCode).toBeNull();
      const rssEnd = rss(pid);
      rssPeak = Math.max(rssPeak, rssEnd);

      console.log(
        `[soak ${databaseKind()}] ${SOAK_SECONDS} s x ${CONNECTIONS} connections: ` +
          `${result.requests.total} requests, ${result.requests.average.toFixed(0)} req/s, ` +
          `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
          `2xx ${result['2xx']}, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; ` +
          `statuses ${JSON.stringify(statuses)}; ` +
          `RSS start ${mb(rssStart)}, end ${mb(rssEnd)}, peak ${mb(rssPeak)}`,
      );

      // Every request answered 2xx: no 5xx, no 4xx (throttling is off), nothing else.
      expect(result['5xx']).toBe(0);
      expect(result.non2xx).toBe(0);
      // No dropped connection, nothing timed out.
      expect(result.errors).toBe(0);
      expect(result.timeouts).toBe(0);
      // All three kinds of request were served, 200 each.
      for (const kind of ['mint', 'list', 'login'] as const) {
        expect(Object.keys(statuses[kind])).toEqual(['200']);
        expect(statuses[kind][200]).toBeGreaterThan(0);
      }
      expect(result['2xx']).toBe(result.requests.total);
      // Memory flat: a generous bound, since a garbage-collected heap breathes.
      expect(rssEnd).toBeLessThan(rssStart * 1.5 + 30 * MB);

      // Still healthy, and still minting verifiable tokens, after the soak.
      const ready = await fetch(`${origin}/health/ready`, { signal: AbortSignal.timeout(5000) });
      expect(ready.status).toBe(200);
      const minted = await fetch(`${origin}${TOKEN_API}/generate`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'SOAK', privateKey: SECRET, payload: { username: 'after' } }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(minted.status).toBe(200);
      const { token } = (await minted.json()) as { token: string };
      expect(verifyHmacToken(token, SECRET, 'HS256').claims.uid).toBe('after');
    },
    (SOAK_SECONDS + WARMUP_SECONDS + 60) * 1000,
  );
});
