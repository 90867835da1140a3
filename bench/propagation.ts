/**
 * The propagation scenario of `npm run bench`: two instances of the service (two apps in this
 * process, each with its own caches and its own connection that hears changes) on one fresh
 * PostgreSQL database, once announcing over LISTEN/NOTIFY and once over Redis pub/sub. 200
 * changes, alternately a revoked jti and a disabled user, each made on A; the delay runs from A's
 * acknowledgement to B's first refusal of the token the change concerns (B accepted it just before).
 *
 * Environment: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379; the Redis side is left out, and says so, when
 * it does not answer), BENCH_CHANGES (200).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createApp } from '../src/app/app.setup';
import { parseSettings } from '../src/config/settings';
import { API } from '../test/support/api-paths';
import { createPostgresDatabase } from '../test/support/database';
import { decodeToken } from '../test/support/jwt';
import { callService } from '../test/support/service-process';
import { ADMIN, basic } from './credentials';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
/** A change not seen within this time counts as this long (and fails the scenario). */
const GIVE_UP_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
const SECRET = randomBytes(32).toString('base64url');
const ADMIN_AUTH = basic(ADMIN.username, ADMIN.password);
/** Both instances share the master key, as a fleet must. */
const KEY = randomBytes(32).toString('base64');

export interface PropagationResult {
  bus: string;
  changes: number;
  p50: number;
  p99: number;
  max: number;
  missed: number;
}

async function startInstance(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<{ app: NestFastifyApplication; origin: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-bench-propagation-'));
  const settings = parseSettings({
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    SECRETS_KEY: KEY,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    LOGIN_MAX_FAILURES: '0',
    ...env,
  });
  const app = await createApp({
    settings,
    logDestination: pino.destination({ dest: '/dev/null', sync: false }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, origin: `http://127.0.0.1:${port}`, dataDir };
}

async function call(
  origin: string,
  method: 'GET' | 'POST',
  path: string,
  authorization: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await callService(origin, authorization, {
    method,
    path,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  return { status: answer.status, body: answer.body };
}

async function admin(origin: string, path: string, body: unknown) {
  const answer = await call(origin, 'POST', `${API}${path}`, ADMIN_AUTH, body);
  if (answer.status !== 200)
    throw new Error(`${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function accepted(origin: string, token: string): Promise<boolean> {
  const answer = await call(origin, 'GET', `${API}/user/detail`, `Bearer ${token}`);
  return answer.status === 200 && Boolean((answer.body.data as { user?: unknown })?.user);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(bus: string, env: Record<string, string>): Promise<PropagationResult> {
  const database = await createPostgresDatabase(POSTGRES_URL);
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  try {
    instances.push(await startInstance(database.url, env));
    instances.push(await startInstance(database.url, env));
    const [a, b] = instances.map((instance) => instance.origin);
    await admin(a, '/token/update', {
      name: 'ERP',
      secret: SECRET,
      algorithm: 'HS256',
      enable: '1',
      inituser: '1',
      fieldmap: { username: 'username' },
    });
    const delays: number[] = [];
    let missed = 0;
    for (let i = 0; i < CHANGES; i++) {
      const username = `bench-${i}`;
      const { token } = (await admin(a, '/token/generate', {
        name: 'ERP',
        privateKey: SECRET,
        payload: { username },
      })) as { token: string };
      if (!(await accepted(b, token))) throw new Error(`B refused token ${i} before any change`);
      if (i % 2 === 0) await admin(a, '/token/revoke', { jti: decodeToken(token).claims.jti });
      else await admin(a, '/user/insertOrUpdate', { username, enabled: '0' });
      const acknowledged = performance.now();
      while ((await accepted(b, token)) && performance.now() - acknowledged < GIVE_UP_MS);
      const ms = performance.now() - acknowledged;
      if (ms >= GIVE_UP_MS) missed += 1;
      delays.push(ms);
    }
    delays.sort((x, y) => x - y);
    const round1 = (ms: number) => Math.round(ms * 10) / 10;
    return {
      bus,
      changes: CHANGES,
      p50: round1(percentile(delays, 50)),
      p99: round1(percentile(delays, 99)),
      max: round1(delays[delays.length - 1]),
      missed,
    };
  } finally {
    for (const instance of instances) {
      await instance.app.close();
      rmSync(instance.dataDir, { recursive: true, force: true });
    }
    await database.drop();
  }
}

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Both buses' delays; prints one line each. */
export async function benchPropagation(): Promise<PropagationResult[]> {
  const results = [await measure('PostgreSQL LISTEN/NOTIFY', {})];
  if (await redisAnswers()) {
    const prefix = `datafor-bench-${randomBytes(4).toString('hex')}:`;
    results.push(await measure('Redis pub/sub', { REDIS_URL, REDIS_PREFIX: prefix }));
  } else {
    console.log(
      `propagation: Redis does not answer at ${new URL(REDIS_URL).host}: its side left out`,
    );
  }
  for (const r of results)
    console.log(
      `propagation  ${r.bus.padEnd(26)} ${r.changes} changes: p50 ${r.p50} ms, p99 ${r.p99} ms, ` +
        `max ${r.max} ms${r.missed > 0 ? `, ${r.missed} not seen within ${GIVE_UP_MS} ms` : ''}`,
    );
  return results;
}
