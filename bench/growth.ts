/**
 * The growth scenario (BENCH_SCENARIOS=growth, issue 20): the service on an empty store, then on
 * one of BENCH_GROWTH_ROWS audit events (default 10,000,000) and BENCH_GROWTH_USERS users
 * (default 1,000,000), seeded with SQL while the service is stopped. In both states: the mint rate
 * (req/s, medians of the rounds) and the latency of audit/list (first page and a cursor page,
 * unfiltered, by action, actor, target and a time range) and of user/list (the same, unfiltered
 * and by usertype), each the median and p99 of BENCH_GROWTH_SAMPLES requests sent one at a time
 * (a list of one page, as user/list on the empty store, has no cursor page: n/a).
 * Bars: the seeded mint rate within 10% of the empty one, every latency 20 ms or less.
 * On the seeded store, the whole trail is also exported (audit/export, NDJSON) by the built
 * service (node dist/main.js) started with its heap capped (EXPORT_V8_FLAGS) while its resident memory is sampled: its growth
 * over the export (bar 50 MB) and the export's rate.
 * Then a third phase, reported against the goal (not a bar): the seeded store restarted with
 * AUDIT_RETENTION_DAYS=183 and AUDIT_PRUNE_INTERVAL=1, so that the pruner deletes the older half
 * of the trail in its batches all through the mint rounds: the mint p99 beside a running prune,
 * within 10% of the seeded phase's, and the rows it deleted meanwhile.
 * On SQLite in a temporary DATA_DIR, or on a fresh database of the PostgreSQL server at
 * BENCH_DATABASE_URL (created and dropped).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_FILE } from '../src/app/database/database.module';
import { createPostgresDatabase } from '../test/support/database';
import { startServiceProcess } from '../test/support/service-process';
import { AUDIT_API, TOKEN_API, USER_API } from '../test/support/api-paths';
import { ask, forkTs, stop } from './child';
import { ADMIN, basic } from './credentials';
import type { LoadResult } from './load';
import type { ServiceStart } from './service';

const AUDIT_LIST = `${AUDIT_API}/list`;
const AUDIT_EXPORT = `${AUDIT_API}/export`;
/** The most the service's resident memory may grow while it exports the whole trail. */
const MAX_EXPORT_RSS_MB = 50;
/**
 * The heap limits of the service that exports (what docs/operations.md advises in a container):
 * uncapped, V8 lets its heap grow to its first
 * full-collection limit under any sustained load before it collects (docs/operations.md, "Memory"),
 * which says nothing of what the export holds; capped, what the process grows by is what it holds.
 */
const EXPORT_V8_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=1'];
const USER_LIST = `${USER_API}/list`;
const MIN_MINT_RATIO = 0.9;
const MAX_LATENCY_MS = 20;
/** The goal of the pruning phase: its mint p99 at most this much above the seeded phase's. */
const MAX_PRUNE_P99_RATIO = 1.1;
/** The pruning phase's retention: about the older half of the seeded year. */
const PRUNE_RETENTION_DAYS = '183';
/** The seeded trail spans the year before the seeding. */
const SPAN_MS = 365 * 24 * 3600 * 1000;
/** One hash for every seeded user: the form the service writes, never checked by the scenario. */
const SEEDED_HASH = `scrypt$15$8$1$${'A'.repeat(22)}$${'B'.repeat(43)}`;

export interface GrowthOptions {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  logLevel: string;
  rows: number;
  users: number;
  samples: number;
  databaseUrl?: string;
  /** The mint request of the other scenarios (body and headers), and its configuration's body. */
  mint: { body: string; headers: Record<string, string> };
  configuration: string;
}

interface Latency {
  label: string;
  p50: number;
  p99: number;
}

interface Phase {
  mintPerSecond: number;
  mintP99: number;
  failures: number;
  latencies: Latency[];
}

/** Where the seeding writes: SQLite's file or the PostgreSQL database, behind one `run`. */
interface Store {
  kind: 'sqlite' | 'postgres';
  run(sql: string): Promise<void>;
  close(): Promise<void>;
}

async function openStore(dataDir: string, databaseUrl?: string): Promise<Store> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return {
      kind: 'postgres',
      run: async (sql) => void (await client.query(sql)),
      close: () => client.end(),
    };
  }
  const db = new Database(join(dataDir, SQLITE_FILE));
  // The service is stopped: a rollback journal writes less than the WAL for a bulk append.
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  return {
    kind: 'sqlite',
    run: async (sql) => void db.exec(sql),
    close: async () => {
      db.pragma('journal_mode = WAL');
      db.close();
    },
  };
}

/** The table's own indexes (not those of its constraints), as the statements that make them. */
async function secondaryIndexes(
  store: Store,
  dataDir: string,
  databaseUrl: string | undefined,
  table: string,
) {
  if (store.kind === 'postgres') {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; sql: string }>(
        `SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE tablename = $1
           AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
        [table],
      );
      return rows;
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
  try {
    return db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
      )
      .all(table) as { name: string; sql: string }[];
  } finally {
    db.close();
  }
}

/** The rows of the seeded trail and user table, as one SELECT per dialect. */
function seedSql(kind: Store['kind'], rows: number, users: number, end: number) {
  const step = Math.max(1, Math.floor(SPAN_MS / rows));
  const start = end - rows * step;
  const numbers = (count: number) =>
    kind === 'sqlite'
      ? `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1}) SELECT i FROM n`
      : `SELECT i FROM generate_series(0::bigint, ${count - 1}) AS i`;
  const hex = (expression: string, width: number) =>
    kind === 'sqlite'
      ? `printf('%0${width}x', ${expression})`
      : `lpad(to_hex(${expression}), ${width}, '0')`;
  // 80% mints by 7 ERP accounts on 13 configurations, 13% sign-ins (a tenth failed) by the users,
  // then revocations, user and configuration changes, locks.
  const audit = `
    INSERT INTO audit_events (at, actor, action, target, client, outcome, details)
    SELECT ${start} + i * ${step},
      CASE WHEN b < 80 THEN 'erp-' || (i % 7) WHEN b < 93 OR b = 99 THEN 'user-' || u ELSE 'admin' END,
      CASE WHEN b < 80 THEN 'token.mint' WHEN b < 88 THEN 'session.login' WHEN b < 93 THEN 'auth.basic'
        WHEN b < 95 THEN 'token.revoke' WHEN b < 97 THEN 'user.update' WHEN b < 98 THEN 'user.create'
        WHEN b < 99 THEN 'token.update' ELSE 'auth.lock' END,
      CASE WHEN b < 80 OR b = 98 THEN 'ERP' || CASE WHEN i % 13 = 0 THEN '' ELSE '-' || (i % 13) END WHEN b < 93 OR b >= 95 THEN 'user-' || u
        ELSE ${hex('i', 32)} END,
      '10.0.' || (i % 256) || '.' || (i % 251),
      CASE WHEN b >= 80 AND b < 93 AND i % 10 = 0 THEN 'failure' ELSE 'success' END,
      CASE WHEN b < 80 THEN '{"username":"user-' || u || '","userCreated":false}' END
    FROM (SELECT i, i % 100 AS b, (i * 7919) % ${users} AS u FROM (${numbers(rows)}) AS n) AS k`;
  const enabled = kind === 'sqlite' ? 'CASE WHEN i % 50 = 0 THEN 0 ELSE 1 END' : 'i % 50 <> 0';
  // 1 in 1,000 an Administrator, 1 in 10 a creator, 1 in 50 disabled.
  const userRows = `
    INSERT INTO users (id, username, password_hash, name, email, mobile, dept, title, company, dob,
      description, usertype, roles, enabled, created_date, last_modified_date, access_changed_date)
    SELECT ${hex('i', 8)} || '-0000-4000-8000-' || ${hex('i', 12)}, 'user-' || i, '${SEEDED_HASH}',
      'User ' || i, 'user-' || i || '@example.com', NULL, 'Dept ' || (i % 40), NULL, 'Example',
      NULL, NULL,
      CASE WHEN i % 1000 = 0 THEN 'Administrator' WHEN i % 10 = 1 THEN 'SYS_Creator' ELSE 'SYS_Reader' END,
      '[]', ${enabled}, ${start}, ${start}, ${start}
    FROM (${numbers(users)}) AS n`;
  return { audit, users: userRows, start, end };
}

/** Seeds both tables with their own indexes dropped, then makes them again (a sort beats 10M inserts). */
async function seed(
  options: GrowthOptions,
  dataDir: string,
): Promise<{ start: number; end: number }> {
  const store = await openStore(dataDir, options.databaseUrl);
  try {
    const sql = seedSql(store.kind, options.rows, options.users, Date.now() - 60_000);
    for (const [table, insert, count] of [
      ['audit_events', sql.audit, options.rows],
      ['users', sql.users, options.users],
    ] as const) {
      const began = performance.now();
      const indexes = await secondaryIndexes(store, dataDir, options.databaseUrl, table);
      for (const { name } of indexes) await store.run(`DROP INDEX "${name}"`);
      await store.run(insert);
      const inserted = performance.now();
      for (const { sql: create } of indexes) await store.run(create);
      console.log(
        `growth: seeded ${count.toLocaleString('en')} rows into ${table} in ` +
          `${((performance.now() - began) / 1000).toFixed(1)} s (insert ` +
          `${((inserted - began) / 1000).toFixed(1)} s, ${indexes.length} indexes ` +
          `${((performance.now() - inserted) / 1000).toFixed(1)} s)`,
      );
    }
    // What autovacuum does after a bulk load: statistics, and the visibility map for index-only scans.
    if (store.kind === 'postgres') await store.run('VACUUM ANALYZE audit_events, users');
    return { start: sql.start, end: sql.end };
  } finally {
    await store.close();
  }
}

const percentile = (values: number[], share: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
};

async function getJson(url: string, authorization: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers: { authorization } });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The median and p99 of `samples` requests to `url`, one at a time, after a few unmeasured. */
async function latency(label: string, url: string, samples: number): Promise<Latency> {
  const authorization = basic(ADMIN.username, ADMIN.password);
  for (let i = 0; i < 5; i++) await getJson(url, authorization);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const began = performance.now();
    await getJson(url, authorization);
    times.push(performance.now() - began);
  }
  return { label, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** The list requests, each as a first page and as the page after its first page's cursor. */
async function listLatencies(origin: string, samples: number, range: { from: number; to: number }) {
  const authorization = basic(ADMIN.username, ADMIN.password);
  const lists: [string, string][] = [
    ['audit/list', `${AUDIT_LIST}?size=50`],
    ['audit/list action', `${AUDIT_LIST}?size=50&action=token.mint`],
    ['audit/list actor', `${AUDIT_LIST}?size=50&actor=admin`],
    ['audit/list target', `${AUDIT_LIST}?size=50&target=ERP`],
    ['audit/list from-to', `${AUDIT_LIST}?size=50&from=${range.from}&to=${range.to}`],
    ['user/list', `${USER_LIST}?size=50`],
    ['user/list usertype', `${USER_LIST}?size=50&usertype=Administrator`],
  ];
  const results: Latency[] = [];
  for (const [label, path] of lists) {
    const url = `${origin}${path}`;
    results.push(await latency(`${label}, first page`, url, samples));
    const { next } = await getJson(url, authorization);
    if (typeof next === 'string')
      results.push(await latency(`${label}, cursor page`, `${url}&cursor=${next}`, samples));
    else results.push({ label: `${label}, cursor page`, p50: Number.NaN, p99: Number.NaN });
  }
  return results;
}

async function startService(start: ServiceStart): Promise<{ child: ChildProcess; origin: string }> {
  const child = forkTs('service.ts');
  const { port } = await ask<{ port: number }>(child, start);
  return { child, origin: `http://127.0.0.1:${port}` };
}

async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  stop(child);
  if (child.exitCode === null && child.signalCode === null) await exited;
}

/** The mint rate and p99 (medians of the rounds) and the list latencies of the service as it stands. */
async function measurePhase(
  options: GrowthOptions,
  load: ChildProcess,
  origin: string,
  range: { from: number; to: number },
  name: string,
): Promise<Phase> {
  const mints = await measureMints(options, load, origin, name);
  return { ...mints, latencies: await listLatencies(origin, options.samples, range) };
}

/** The resident memory of a process, from Linux's /proc. */
function rssOf(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

interface ExportRun {
  lines: number;
  seconds: number;
  /** The largest resident memory sampled during the export, less the one before it, in MB. */
  rssGrowthMb: number;
}

/** Reads the whole trail's export (keeping counts only) while sampling the service's memory. */
function exportAll(
  origin: string,
  pid: number,
  headers: Record<string, string>,
): Promise<ExportRun> {
  const before = rssOf(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  const started = performance.now();
  return new Promise<ExportRun>((done, failed) => {
    get(
      `${origin}${AUDIT_EXPORT}`,
      { headers: { authorization: headers.authorization } },
      (response) => {
        if (response.statusCode !== 200)
          failed(new Error(`audit/export answered ${response.statusCode}`));
        let lines = 0;
        response.on('data', (chunk: Buffer) => {
          for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
        });
        response.on('end', () =>
          done({
            lines,
            seconds: (performance.now() - started) / 1000,
            rssGrowthMb: (Math.max(peak, rssOf(pid)) - before) / 2 ** 20,
          }),
        );
        response.on('error', failed);
      },
    ).on('error', failed);
  }).finally(() => clearInterval(sampler));
}

/** The rows the service's pruner has deleted since it started (its metric). */
async function rowsPruned(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = /^datafor_audit_rows_pruned_total (\d+)/m.exec(text);
  if (!line) throw new Error('/metrics has no datafor_audit_rows_pruned_total');
  return Number(line[1]);
}

/** The mint rate and p99, medians of the rounds after a warm-up. */
async function measureMints(
  options: GrowthOptions,
  load: ChildProcess,
  origin: string,
  name: string,
): Promise<Omit<Phase, 'latencies'>> {
  const request = {
    url: `${origin}${TOKEN_API}/generate`,
    method: 'POST' as const,
    headers: options.mint.headers,
    body: options.mint.body,
    connections: options.connections,
  };
  await ask(load, { ...request, duration: options.warmup });
  const rounds: LoadResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const { result } = await ask<{ result: LoadResult }>(load, {
      ...request,
      duration: options.duration,
    });
    rounds.push(result);
    console.log(
      `growth ${name}: mint ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyP99} ms (round ${round})`,
    );
  }
  return {
    mintPerSecond: percentile(
      rounds.map((r) => r.requestsPerSecond),
      0.5,
    ),
    mintP99: percentile(
      rounds.map((r) => r.latencyP99),
      0.5,
    ),
    failures: rounds.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
  };
}

const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(1)).padStart(6);

/** Runs the scenario and prints its report: true when nothing failed and every bar is met. */
export async function benchGrowth(options: GrowthOptions): Promise<boolean> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-growth-'));
  const postgres = options.databaseUrl
    ? await createPostgresDatabase(options.databaseUrl)
    : undefined;
  const databaseUrl = postgres?.url;
  const load = forkTs('load.ts');
  let service: ChildProcess | undefined;
  try {
    const start: ServiceStart = { dataDir, databaseUrl, logLevel: options.logLevel };
    console.log(
      `growth: on ${databaseUrl ? 'PostgreSQL' : 'SQLite'}; ${options.rows.toLocaleString('en')} audit rows, ` +
        `${options.users.toLocaleString('en')} users; mint ${options.connections} connections, ` +
        `${options.rounds} x ${options.duration} s; list latencies of ${options.samples} requests one at a time`,
    );
    let running = await startService(start);
    service = running.child;
    const configured = await fetch(`${running.origin}${TOKEN_API}/update`, {
      method: 'POST',
      headers: options.mint.headers,
      body: options.configuration,
    });
    if (configured.status !== 200) throw new Error(`token/update answered ${configured.status}`);
    // On the empty store the trail holds only the mints of the phase: the range covers the last minute.
    const emptyRange = { from: Date.now(), to: Date.now() + 3_600_000 };
    const empty = await measurePhase(options, load, running.origin, emptyRange, 'empty');

    await stopService(service);
    service = undefined;
    const seeded = await seed({ ...options, databaseUrl }, dataDir);
    running = await startService(start);
    service = running.child;
    // A day in the middle of the seeded year.
    const middle = Math.floor((seeded.start + seeded.end) / 2);
    const after = await measurePhase(
      options,
      load,
      running.origin,
      { from: middle, to: middle + 24 * 3600 * 1000 },
      'seeded',
    );
    // The whole trail exported by the built service (node dist/main.js), its heap capped.
    await stopService(service);
    service = undefined;
    const exporter = await startServiceProcess({
      dataDir,
      databaseUrl,
      admin: ADMIN,
      env: { NODE_OPTIONS: EXPORT_V8_FLAGS.join(' ') },
    });
    const exported = await exportAll(
      exporter.origin,
      exporter.child.pid!,
      options.mint.headers,
    ).finally(async () => {
      exporter.child.kill('SIGTERM');
      await exporter.exited;
    });

    // The older half of the trail pruned in batches while the mints are measured.
    const pruneStart: ServiceStart = {
      ...start,
      env: { AUDIT_RETENTION_DAYS: PRUNE_RETENTION_DAYS, AUDIT_PRUNE_INTERVAL: '1' },
    };
    running = await startService(pruneStart);
    service = running.child;
    const pruning = await measureMints(options, load, running.origin, 'pruning');
    const pruned = await rowsPruned(running.origin);

    const ratio = after.mintPerSecond / empty.mintPerSecond;
    console.log(
      `growth: mint empty ${empty.mintPerSecond.toFixed(0)} req/s (p99 ${empty.mintP99} ms), seeded ` +
        `${after.mintPerSecond.toFixed(0)} req/s (p99 ${after.mintP99} ms): seeded/empty ${ratio.toFixed(3)} ` +
        `(bar >= ${MIN_MINT_RATIO}) -> ${verdict(ratio >= MIN_MINT_RATIO)}`,
    );
    let latenciesMet = true;
    console.log(`growth: latency, ms (median / p99), bar ${MAX_LATENCY_MS} ms:`);
    for (const [index, before] of empty.latencies.entries()) {
      const later = after.latencies[index];
      // NaN: the list had one page, so no cursor page to measure.
      const within = (ms: number) => Number.isNaN(ms) || ms <= MAX_LATENCY_MS;
      const met = within(later.p50) && within(before.p50);
      const p99Met = within(later.p99) && within(before.p99);
      latenciesMet &&= met;
      console.log(
        `  ${before.label.padEnd(34)} empty ${ms(before.p50)} / ${ms(before.p99)}` +
          `   seeded ${ms(later.p50)} / ${ms(later.p99)}` +
          `   median ${verdict(met)}, p99 ${verdict(p99Met)}`,
      );
    }
    const pruneRatio = pruning.mintP99 / after.mintP99;
    console.log(
      `growth: mint beside a running prune ${pruning.mintPerSecond.toFixed(0)} req/s, p99 ` +
        `${pruning.mintP99} ms against ${after.mintP99} ms seeded: ${pruneRatio.toFixed(3)} (goal <= ` +
        `${MAX_PRUNE_P99_RATIO}) -> ${verdict(pruneRatio <= MAX_PRUNE_P99_RATIO)}; ` +
        `${pruned.toLocaleString('en')} rows pruned meanwhile`,
    );
    const exportMet = exported.rssGrowthMb <= MAX_EXPORT_RSS_MB;
    console.log(
      `growth: audit/export of ${exported.lines.toLocaleString('en')} rows in ${exported.seconds.toFixed(1)} s ` +
        `(${Math.round(exported.lines / exported.seconds).toLocaleString('en')} rows/s), the service's ` +
        `resident memory +${exported.rssGrowthMb.toFixed(1)} MB with ${EXPORT_V8_FLAGS.join(' ')} (bar <= ${MAX_EXPORT_RSS_MB}) -> ${verdict(exportMet)}`,
    );
    const failures = empty.failures + after.failures + pruning.failures;
    const pass = failures === 0 && ratio >= MIN_MINT_RATIO && latenciesMet && exportMet;
    const round1 = (value: number) => (Number.isNaN(value) ? null : Number(value.toFixed(1)));
    console.log(
      JSON.stringify({
        growth: {
          database: databaseUrl ? 'postgres' : 'sqlite',
          rows: options.rows,
          users: options.users,
          mint: {
            empty: Math.round(empty.mintPerSecond),
            seeded: Math.round(after.mintPerSecond),
            ratio: Number(ratio.toFixed(3)),
            pruning: Math.round(pruning.mintPerSecond),
            p99: { seeded: after.mintP99, pruning: pruning.mintP99 },
            pruneP99Ratio: Number(pruneRatio.toFixed(3)),
            pruned,
          },
          latencies: empty.latencies.map((before, index) => ({
            label: before.label,
            empty: [round1(before.p50), round1(before.p99)],
            seeded: [round1(after.latencies[index].p50), round1(after.latencies[index].p99)],
          })),
          export: {
            rows: exported.lines,
            seconds: Number(exported.seconds.toFixed(1)),
            rssGrowthMb: Number(exported.rssGrowthMb.toFixed(1)),
          },
          failures,
          pass,
        },
      }),
    );
    console.log(`growth: ${failures} failed requests -> ${pass ? 'PASS' : 'FAIL'}`);
    return pass;
  } finally {
    if (service) await stopService(service);
    stop(load);
    await postgres?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
