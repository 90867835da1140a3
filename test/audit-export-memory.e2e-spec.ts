import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import { type ServiceProcess, startServiceProcess } from './support/service-process';

const ROWS = 400_000;
const T0 = 1_800_000_000_000;
/**
 * The service's heap is capped well below the export's size: a service that held the rows, or
 * the text, would die of it. Buffers live outside that heap, so the resident memory is what shows
 * a stream that ignores backpressure. Uncapped, V8 lets both its old space and its young
 * generation (16 MB semi-spaces) grow under any sustained load before it first collects, which is
 * not the export's doing; with both capped the export measured +31 MB on this machine.
 */
const V8_LIMITS = '--max-old-space-size=64 --max-semi-space-size=1';
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const EXPORT = '/plugin/datafor-modeler/api/audit/export';

/** ROWS audit events written by the database itself, in one statement (SQLite and PostgreSQL). */
const SEED = `
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1})
  INSERT INTO audit_events (at, actor, action, target, client, outcome, details)
  SELECT ${T0} + i, 'erp', 'token.mint', 'user-' || (i % 5000), '10.0.0.1', 'success',
         '{"username":"user-' || (i % 5000) || '","jti":"0b6c1a52-8f1d-4c6a-9e47-2d5f1a7b8c90"}'
  FROM n`;

/** The resident memory of a process, from Linux's /proc. */
function rssOf(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

/** Reads an export to its end, keeping only counts and the last line; answers them. */
function readExport(
  origin: string,
  query: string,
): Promise<{ lines: number; bytes: number; last: string }> {
  return new Promise((done, failed) => {
    get(
      `${origin}${EXPORT}?${query}`,
      { auth: `${ADMIN.username}:${ADMIN.password}` },
      (response) => {
        if (response.statusCode !== 200) failed(new Error(`status ${response.statusCode}`));
        response.setEncoding('utf8');
        let lines = 0;
        let bytes = 0;
        let tail = '';
        response.on('data', (chunk: string) => {
          bytes += chunk.length;
          for (let at = chunk.indexOf('\n'); at >= 0; at = chunk.indexOf('\n', at + 1)) lines++;
          tail = (tail + chunk).slice(-1000);
        });
        response.on('end', () =>
          done({ lines, bytes, last: tail.trimEnd().split('\n').at(-1) ?? '' }),
        );
        response.on('error', failed);
      },
    ).on('error', failed);
  });
}

describe('audit/export of a large range, from a service process', () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let service: ServiceProcess;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'audit-export-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
    service = await startServiceProcess({
      dataDir,
      databaseUrl: postgres?.url,
      admin: ADMIN,
      env: { NODE_OPTIONS: V8_LIMITS },
    });
    if (postgres) {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      await client.query(SEED);
      await client.end();
    } else {
      const db = new Database(join(dataDir, 'datafor-token.sqlite'));
      db.pragma('busy_timeout = 10000');
      db.exec(SEED);
      db.close();
    }
  }, 180_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await postgres?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams 400,000 events while the process grows by at most 50 MB', async () => {
    // A first, small export loads what every export uses; the baseline is taken after it.
    expect((await readExport(service.origin, `from=${T0}&to=${T0 + 10}`)).lines).toBe(10);
    const pid = service.child.pid as number;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    const read = await readExport(service.origin, `from=${T0}`).finally(() =>
      clearInterval(sampler),
    );
    expect(read.lines).toBe(ROWS);
    expect(JSON.parse(read.last)).toMatchObject({ at: T0 + ROWS - 1, cursor: expect.any(String) });
    // About 92 MB of text went out; the process held a bounded part of it at any time.
    expect(read.bytes).toBeGreaterThan(80 * 1024 * 1024);
    expect(peak - baseline).toBeLessThan(50 * 1024 * 1024);
  }, 300_000);
});
