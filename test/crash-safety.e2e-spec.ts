/**
 * Crash safety: the real service (`node dist/main.js`, built by the pretest step) is killed with
 * SIGKILL in the middle of a burst of configuration writes and mints, then restarted on the same
 * DATA_DIR / database. After each restart the database must open, every acknowledged write must be
 * there exactly as sent, and no configuration may be half-written (its fields from one request,
 * its secret from another). Every acknowledged mint must be in the audit trail, read straight from
 * the SQLite file or the PostgreSQL database. Runs on SQLite, or on PostgreSQL when DATABASE_URL
 * is set. All traffic goes to 127.0.0.1, bounded in time and count.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TOKEN_API, USER_API } from './support/api-paths';
import { createPostgresDatabase, databaseKind, POSTGRES_URL } from './support/database';
import { decodeToken, verifyHmacToken } from './support/jwt';
import {
  alive,
  type ServiceProcess,
  sleep,
  startServiceProcess,
  stopServiceProcess,
  callService,
  type ServiceAnswer,
} from './support/service-process';

const SQLITE_FILE = 'datafor-token.sqlite';
const ADMIN = { username: 'admin', password: 'crash-admin-password-1' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const MASK = '************';

const CYCLES = 3;
const LOOPS = 16;
/** The kill lands this many milliseconds into the burst (uniformly at random in the range). */
const KILL_AFTER_MS: [number, number] = [1000, 2000];
const REQUEST_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 30_000;
const ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

// ---------------------------------------------------------------------------------------------
// The service as a child process

type Service = ServiceProcess;

const startService = (dataDir: string, databaseUrl?: string) =>
  startServiceProcess({ dataDir, databaseUrl, admin: ADMIN, readyTimeoutMs: READY_TIMEOUT_MS });

async function kill(service: Service, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  await stopServiceProcess(service, signal);
}

type Answer = Pick<ServiceAnswer, 'status' | 'body'>;

async function call(
  service: Service,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Answer> {
  const { status, body: answer } = await callService(service.origin, AUTH, {
    method,
    path,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  return { status, body: answer };
}

/** Runs `work` over `items` with at most `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// What the burst sent, and which of it was acknowledged

interface ConfigWrite {
  name: string;
  token_name: string;
  secret: string;
  expire: number;
  algorithm: (typeof ALGORITHMS)[number];
  fieldmap: { username: string; name: string; email: string };
  enable: '1';
  inituser: '1';
  initroles: string[];
  /** Sent to a configuration that may exist already: the key it replaces gives way to a new kid. */
  replacement: boolean;
  acknowledged: boolean;
  /** Why it was not acknowledged, when the answer was not a plain 200 success. */
  problem?: string;
}

interface Mint {
  config: string;
  username: string;
  jti?: string;
  acknowledged: boolean;
}

interface Burst {
  creates: ConfigWrite[];
  mints: Mint[];
  inFlightAtKill: number;
  unexpected: string[];
}

function configWrite(
  name: string,
  loop: number,
  version: number,
  replacement = false,
): ConfigWrite {
  return {
    name,
    token_name: `tk${loop}_${version}`,
    // 43 base64url characters of randomness plus the name: distinct, and over 32 bytes.
    secret: `${randomBytes(32).toString('base64url')}-${name}`,
    expire: 60 + version,
    algorithm: ALGORITHMS[version % ALGORITHMS.length],
    fieldmap: { username: `uid${version}`, name: `full${version}`, email: `mail${version}` },
    enable: '1',
    inituser: '1',
    initroles: ['SYS_Creator', `Loop${loop}`, `V${version}`],
    replacement,
    acknowledged: false,
  };
}

function requestBody(write: ConfigWrite): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { acknowledged, problem, replacement, ...body } = write;
  return body;
}

/**
 * Whether `kid` is the one a key stored by `write` has: the configuration's name for its first key,
 * a kid of its own (name, dot, 8 characters) for a key that replaced one.
 */
function kidFits(kid: unknown, write: ConfigWrite): boolean {
  if (kid === write.name) return true;
  return (
    write.replacement &&
    typeof kid === 'string' &&
    new RegExp(`^${write.name}\\.[A-Za-z0-9_-]{8}$`).test(kid)
  );
}

/** What is wrong with `view` (as `list` answers it) if `write` is what is stored; undefined if nothing. */
function viewProblem(view: Record<string, unknown>, write: ConfigWrite): string | undefined {
  const { name, token_name, expire, algorithm, fieldmap, enable, inituser, initroles } = write;
  const { createdDate, lastModifiedDate, keys, ...rest } = view;
  const expected = {
    name,
    token_name,
    secret: MASK,
    expire,
    fieldmap,
    algorithm,
    keyholder: 'issuer',
    enable,
    inituser,
    initroles,
    creatorId: ADMIN.username,
  };
  if (typeof createdDate !== 'number' || typeof lastModifiedDate !== 'number')
    return `${name} has no createdDate/lastModifiedDate: ${JSON.stringify(view)}`;
  // One key version, never rotated.
  if (
    !Array.isArray(keys) ||
    keys.length !== 1 ||
    !kidFits((keys[0] as { kid?: unknown }).kid, write)
  )
    return `${name} has keys ${JSON.stringify(keys)}, not one version of the kid it should have`;
  if (!isDeepStrictEqual(rest, expected))
    return `${name} is ${JSON.stringify(view)}, not what was sent (${JSON.stringify(expected)})`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------

describe(`crash safety: SIGKILL during a burst of writes, then restart (${databaseKind()})`, () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let service: Service | undefined;
  const versions = new Array<number>(LOOPS).fill(0);
  /** Loop i rewrites R<i> on every round: its versions, in the order sent, across all cycles. */
  const replaces = new Map<string, ConfigWrite[]>();
  const allCreates: ConfigWrite[] = [];
  const allMints: Mint[] = [];
  const base = configWrite('BASE', 99, 0);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-crash-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
    service = await startService(dataDir, postgres?.url);
    const created = await call(service, 'POST', `${TOKEN_API}/update`, requestBody(base));
    expect(created).toEqual({ status: 200, body: { success: true, msg: 'success' } });
    base.acknowledged = true;
  }, 120_000);

  afterAll(async () => {
    if (service && alive(service.child)) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await postgres?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** 16 loops of create C*, replace R<i>, mint through the new configuration; SIGKILL mid-way. */
  async function burst(target: Service, cycle: number): Promise<Burst> {
    const result: Burst = { creates: [], mints: [], inFlightAtKill: 0, unexpected: [] };
    let killed = false;
    let inFlight = 0;
    const send = async (path: string, body: unknown): Promise<Answer | undefined> => {
      inFlight++;
      try {
        return await call(target, 'POST', path, body);
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause?.message ?? '';
        if (!killed) result.unexpected.push(`${path} failed before the kill: ${error} ${cause}`);
        return undefined;
      } finally {
        inFlight--;
      }
    };
    const write = async (entry: ConfigWrite): Promise<boolean> => {
      const answer = await send(`${TOKEN_API}/update`, requestBody(entry));
      if (!answer) return false;
      if (answer.status === 200 && answer.body.success === true && !answer.body.type) {
        entry.acknowledged = true;
        return true;
      }
      entry.problem = `status ${answer.status} ${JSON.stringify(answer.body)}`;
      result.unexpected.push(`update ${entry.name}: ${entry.problem}`);
      return false;
    };

    const loop = async (i: number) => {
      for (let n = 0; !killed; n++) {
        const created = configWrite(`C${cycle}_${i}_${n}`, i, n);
        result.creates.push(created);
        if (!(await write(created))) return;

        const replaced = configWrite(`R${i}`, i, ++versions[i], versions[i] > 1);
        if (!replaces.has(replaced.name)) replaces.set(replaced.name, []);
        replaces.get(replaced.name)!.push(replaced);
        if (!(await write(replaced))) return;

        const mint: Mint = {
          config: created.name,
          username: `m${cycle}_${i}_${n}`,
          acknowledged: false,
        };
        result.mints.push(mint);
        const answer = await send(`${TOKEN_API}/generate`, {
          name: created.name,
          privateKey: created.secret,
          payload: { username: mint.username, email: `${mint.username}@example.com` },
        });
        if (!answer) return;
        if (answer.status !== 200 || typeof answer.body.token !== 'string') {
          result.unexpected.push(
            `generate through ${created.name}: status ${answer.status} ${JSON.stringify(answer.body)}`,
          );
          return;
        }
        mint.acknowledged = true;
        mint.jti = String(decodeToken(answer.body.token).claims.jti);
      }
    };

    const loops = Array.from({ length: LOOPS }, (_, i) => loop(i));
    await sleep(randomInt(KILL_AFTER_MS[0], KILL_AFTER_MS[1] + 1));
    result.inFlightAtKill = inFlight;
    killed = true;
    target.child.kill('SIGKILL');
    const exit = await target.exited;
    expect(exit.signal).toBe('SIGKILL');
    await Promise.all(loops);
    allCreates.push(...result.creates);
    allMints.push(...result.mints);
    return result;
  }

  /** Mints through `write`'s configuration with the secret sent, and checks the token by HMAC. */
  async function mintsWith(target: Service, write: ConfigWrite): Promise<string | undefined> {
    const answer = await call(target, 'POST', `${TOKEN_API}/generate`, {
      name: write.name,
      privateKey: write.secret,
      payload: { username: 'crash-verifier' },
    });
    if (answer.status !== 200 || typeof answer.body.token !== 'string') {
      return `generate ${write.name} with the secret sent: status ${answer.status} ${JSON.stringify(answer.body)}`;
    }
    try {
      const { header, claims } = verifyHmacToken(answer.body.token, write.secret, write.algorithm);
      const problems: string[] = [];
      if (!kidFits(header.kid, write)) problems.push(`kid ${String(header.kid)}`);
      if (claims[write.fieldmap.username] !== 'crash-verifier')
        problems.push(`no ${write.fieldmap.username} claim`);
      if (Number(claims.exp) - Number(claims.iat) !== write.expire)
        problems.push(`exp - iat = ${Number(claims.exp) - Number(claims.iat)}`);
      if (answer.body.expire !== write.expire) problems.push(`expire ${answer.body.expire}`);
      return problems.length ? `token of ${write.name}: ${problems.join(', ')}` : undefined;
    } catch (error) {
      return `token of ${write.name} does not verify with the secret sent: ${(error as Error).message}`;
    }
  }

  /** Every `token.mint` jti of the audit trail, read straight from the database. */
  async function auditedJtis(): Promise<Set<string>> {
    let rows: { details: unknown }[];
    if (postgres) {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        rows = (
          await client.query<{ details: unknown }>(
            "SELECT details FROM audit_events WHERE action = 'token.mint'",
          )
        ).rows;
      } finally {
        await client.end();
      }
    } else {
      const db = new Database(join(dataDir, SQLITE_FILE), { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        rows = db.prepare("SELECT details FROM audit_events WHERE action = 'token.mint'").all() as {
          details: unknown;
        }[];
      } finally {
        db.close();
      }
    }
    const jtis = new Set<string>();
    for (const { details } of rows) {
      const parsed = (typeof details === 'string' ? JSON.parse(details) : details) as {
        jti?: string;
      } | null;
      if (parsed?.jti) jtis.add(parsed.jti);
    }
    return jtis;
  }

  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    it(`cycle ${cycle}: after a SIGKILL mid-burst the database opens, acknowledged writes are all there, whole`, async () => {
      const started = Date.now();
      const result = await burst(service!, cycle);
      const ackCreates = result.creates.filter((w) => w.acknowledged);
      const ackMints = result.mints.filter((m) => m.acknowledged);
      // Every request answered before the kill was a 200, and none failed before it.
      expect(result.unexpected).toEqual([]);
      // The kill must land mid-burst: writes acknowledged, and requests still in flight.
      expect(ackCreates.length).toBeGreaterThan(0);
      expect(ackMints.length).toBeGreaterThan(0);
      expect(result.inFlightAtKill).toBeGreaterThan(0);

      service = await startService(dataDir, postgres?.url);
      const ready = await call(service, 'GET', '/health/ready');
      expect(ready.status).toBe(200);

      const list = await call(service, 'GET', `${TOKEN_API}/list`);
      expect(list.status).toBe(200);
      const listed = new Map(
        (list.body.data as Record<string, unknown>[]).map((view) => [String(view.name), view]),
      );
      const problems: string[] = [];
      const toMint: ConfigWrite[] = [base];

      // The configuration written before any kill.
      const baseView = listed.get('BASE');
      problems.push(baseView ? (viewProblem(baseView, base) ?? '') : 'BASE is missing');

      let inFlightStored = 0;
      // Creates of every cycle so far: acknowledged ones there exactly as sent (they also survive
      // the later kills); those in flight at a kill either absent or whole.
      for (const write of allCreates) {
        const view = listed.get(write.name);
        if (!view) {
          if (write.acknowledged) problems.push(`acknowledged ${write.name} is missing`);
          continue;
        }
        const problem = viewProblem(view, write);
        if (problem)
          problems.push(`${write.acknowledged ? 'acknowledged' : 'in-flight'} ${problem}`);
        else {
          toMint.push(write);
          if (!write.acknowledged) inFlightStored++;
        }
      }

      // Replaced configurations: the last acknowledged version, or one sent after it.
      for (const [name, sent] of replaces) {
        const lastAck = sent.map((w) => w.acknowledged).lastIndexOf(true);
        const candidates = sent.slice(Math.max(lastAck, 0));
        const view = listed.get(name);
        if (!view) {
          if (lastAck >= 0)
            problems.push(`${name} (acknowledged version ${lastAck + 1}) is missing`);
          continue;
        }
        const match = candidates.find((w) => viewProblem(view, w) === undefined);
        if (!match) {
          problems.push(
            `${name} is neither its last acknowledged version nor a later one: ${JSON.stringify(view)}`,
          );
        } else {
          toMint.push(match);
          if (!match.acknowledged) inFlightStored++;
        }
      }

      // Nothing listed that the test did not write.
      const known = new Set(['BASE', ...allCreates.map((w) => w.name), ...replaces.keys()]);
      for (const name of listed.keys())
        if (!known.has(name)) problems.push(`unknown configuration ${name}`);

      // Every configuration listed opens with the secret sent with its fields, and mints.
      const listedNames = new Set(listed.keys());
      const checkedNames = new Set(toMint.map((w) => w.name));
      for (const name of listedNames)
        if (!checkedNames.has(name) && known.has(name))
          problems.push(`listed ${name} matches no write that was sent`);
      await pool(toMint, 8, async (write) => {
        const problem = await mintsWith(service!, write);
        if (problem) problems.push(problem);
      });

      // Every acknowledged mint: its user exists, and its jti is in the audit trail.
      const users = await call(service, 'GET', `${USER_API}/list`);
      expect(users.status).toBe(200);
      const usernames = new Set(
        (users.body.data as { username: string }[]).map((user) => user.username),
      );
      for (const mint of ackMints)
        if (!usernames.has(mint.username))
          problems.push(`user ${mint.username} of an acknowledged mint is missing`);
      const audited = await auditedJtis();
      for (const mint of ackMints)
        if (!audited.has(mint.jti!))
          problems.push(`acknowledged mint ${mint.jti} (${mint.config}) is not audited`);

      const ackReplaces = [...replaces.values()].flat().filter((w) => w.acknowledged).length;
      console.log(
        `[crash ${databaseKind()}] cycle ${cycle}: killed after ${result.creates.length} creates sent ` +
          `(${ackCreates.length} acknowledged), ${ackReplaces} replaces acknowledged in all, ` +
          `${ackMints.length} mints acknowledged, ${result.inFlightAtKill} in flight at the kill; ` +
          `restart found ${inFlightStored} unacknowledged writes stored whole, ` +
          `checked ${toMint.length} configurations by minting; ${Date.now() - started} ms`,
      );
      expect(problems.filter(Boolean)).toEqual([]);
    }, 120_000);
  }

  it('stops gracefully after the crashes, every acknowledged mint audited, the store intact', async () => {
    await kill(service!, 'SIGTERM');
    const exit = await service!.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const audited = await auditedJtis();
    const acknowledged = allMints.filter((m) => m.acknowledged);
    expect(acknowledged.filter((m) => !audited.has(m.jti!))).toEqual([]);
    if (!postgres) {
      const db = new Database(join(dataDir, SQLITE_FILE), { fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
      } finally {
        db.close();
      }
    }
    console.log(
      `[crash ${databaseKind()}] ${CYCLES} SIGKILL cycles: ${allCreates.filter((w) => w.acknowledged).length} ` +
        `acknowledged creates, ${[...replaces.values()].flat().filter((w) => w.acknowledged).length} ` +
        `acknowledged replaces, ${acknowledged.length} acknowledged mints, all audited`,
    );
  }, 60_000);
});
