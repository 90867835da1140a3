import pg from 'pg';
import { AUDIT_PRUNE_LOCK_KEY } from '../src/audit/audit-writer';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { databaseKind } from './support/database';
import { insertRows } from './support/rows';
import { startTestApp, type TestApp, TOKEN_API } from './support/test-app';

const DAY_MS = 86_400_000;
const SECRET = 'retention-suite-secret-0123456789abcdef';
/**
 * Rows past the retention pruned while mints go on: 20 batches. Beside the mints a pass on SQLite
 * pauses 250 ms or more after each batch (AuditPruner): a few seconds.
 */
const OLD_ROWS = 2_000;
/** Rows pruned on a quiet store, to see the pages they free reused. */
const REFILL_ROWS = 20_000;
const MINTS_IN_FLIGHT = 200;

type Seeded = Omit<AuditEventEntity, 'id'>;

const row = (at: number, target: string): Seeded => ({
  at,
  actor: 'erp',
  action: 'seeded',
  target,
  client: '10.0.0.1',
  outcome: 'success',
  details: { jti: `${target}-0123456789abcdef0123456789abcdef` },
});

const seed = (t: TestApp, rows: Seeded[]) => insertRows(t, AuditEventEntity, rows, 500);

async function count(t: TestApp, where: string, parameters: unknown[] = []): Promise<number> {
  const sql = `SELECT COUNT(*) AS n FROM audit_events WHERE ${where}`;
  let index = 0;
  const numbered = databaseKind() === 'postgres' ? sql.replace(/\?/g, () => `$${++index}`) : sql;
  const [{ n }] = (await t.dataSource.query(numbered, parameters)) as { n: string | number }[];
  return Number(n);
}

const pageCount = async (t: TestApp, pragma: 'page_count' | 'freelist_count') =>
  Number(((await t.dataSource.query(`PRAGMA ${pragma}`)) as Record<string, number>[])[0][pragma]);

function metric(scrape: string, name: string): number {
  const line = scrape.split('\n').find((text) => text.startsWith(`${name} `));
  expect(line).toBeDefined();
  return Number(line!.split(' ')[1]);
}

const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('audit retention (AUDIT_RETENTION_DAYS)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // One pass a second, so that the suite sees several.
    t = await startTestApp({ env: { AUDIT_PRUNE_INTERVAL: '1' } });
    const created = await t.admin('POST', `${TOKEN_API}/update`, {
      name: 'ERP',
      secret: SECRET,
      enable: '1',
      inituser: '1',
    });
    expect(created.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('deletes every row past the retention while mints go on, keeps every newer row, and fails no mint', async () => {
    const now = Date.now();
    const cutoff = now - 365 * DAY_MS;
    await seed(t, [
      ...Array.from({ length: OLD_ROWS }, (_, i) => row(now - 400 * DAY_MS + i, `old ${i}`)),
      row(cutoff - 60_000, 'old at the edge'),
      // Recorded after the cut-off of any pass from now on: kept.
      row(cutoff + 3_600_000, 'kept: a year less an hour'),
      row(now - DAY_MS, 'kept: yesterday'),
    ]);

    // Rounds of 200 mints in flight at once, until the pruning is over (the pass pauses long after
    // a batch that met the mints' groups: it yields to them).
    let mints = 0;
    let rounds = 0;
    let roundsWhilePruning = 0;
    for (;;) {
      const left = await count(t, "action = 'seeded' AND at < ?", [cutoff]);
      if (left === 0) break;
      rounds += 1;
      // Some rows deleted and some left: this round's mints meet a pass in progress.
      if (left < OLD_ROWS + 1) roundsWhilePruning += 1;
      const answers = await Promise.all(
        Array.from({ length: MINTS_IN_FLIGHT }, (_, i) =>
          t.admin('POST', `${TOKEN_API}/generate`, {
            name: 'ERP',
            privateKey: SECRET,
            payload: { username: `user-${i % 20}` },
          }),
        ),
      );
      expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 200));
      mints += answers.length;
      expect(rounds).toBeLessThan(500);
    }
    expect(roundsWhilePruning).toBeGreaterThan(0);

    expect(await count(t, 'at < ?', [cutoff])).toBe(0);
    expect(await count(t, "target LIKE 'kept: %'")).toBe(2);
    expect(await count(t, "action = 'token.mint' AND outcome = 'success'")).toBe(mints);

    const scrape = (await t.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metric(scrape, 'datafor_audit_rows_pruned_total')).toBe(OLD_ROWS + 1);
    // The next pass reads the oldest row left: a year less an hour old, at most.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const age = metric(
      (await t.inject({ method: 'GET', url: '/metrics' })).body,
      'datafor_audit_oldest_row_age_seconds',
    );
    expect(age).toBeGreaterThan((365 * DAY_MS - 3_700_000) / 1000);
    expect(age).toBeLessThan((365 * DAY_MS) / 1000);
  });

  if (databaseKind() === 'sqlite') {
    it('reuses the pages it frees: as many new rows as it pruned leave the file its size', async () => {
      const old = Date.now() - 400 * DAY_MS;
      const freeBefore = await pageCount(t, 'freelist_count');
      const pagesBefore = await pageCount(t, 'page_count');
      // In one transaction: no prune batch comes between the inserts.
      await t.dataSource.transaction(async (manager) => {
        for (let start = 0; start < REFILL_ROWS; start += 500) {
          await manager.insert(
            AuditEventEntity,
            Array.from({ length: 500 }, (_, i) => row(old + start + i, `again ${start + i}`)),
          );
        }
      });
      const seeded = await pageCount(t, 'page_count');
      // The pages these rows took: the file's growth, and the free pages they filled.
      const taken = seeded - pagesBefore + freeBefore - (await pageCount(t, 'freelist_count'));
      await until(async () => (await count(t, "target LIKE 'again %'")) === 0, 15_000);
      // Deleting shrinks nothing: the pages are on the freelist.
      expect(await pageCount(t, 'page_count')).toBe(seeded);
      expect(taken).toBeGreaterThan(0);
      expect(await pageCount(t, 'freelist_count')).toBeGreaterThan(taken * 0.8);
      await seed(
        t,
        Array.from({ length: REFILL_ROWS }, (_, i) => row(Date.now(), `refill ${i}`)),
      );
      expect(await pageCount(t, 'page_count')).toBeLessThanOrEqual(Math.ceil(seeded * 1.05));
    });
  }

  if (databaseKind() === 'postgres') {
    it('skips its passes while another instance holds the prune lock, and prunes once it is let go', async () => {
      const other = new pg.Client({ connectionString: t.settings.databaseUrl });
      await other.connect();
      try {
        // Taken between two batches of this app's (a batch holds it for its transaction only).
        await until(async () => {
          await other.query('BEGIN');
          const { rows } = await other.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_xact_lock($1) AS locked',
            [AUDIT_PRUNE_LOCK_KEY],
          );
          if (!rows[0].locked) await other.query('ROLLBACK');
          return rows[0].locked;
        }, 5000);
        const now = Date.now();
        await seed(
          t,
          Array.from({ length: 10 }, (_, i) => row(now - 400 * DAY_MS + i, `locked ${i}`)),
        );
        // Two passes or more go by while the lock is held elsewhere.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        expect(await count(t, "target LIKE 'locked %'")).toBe(10);
        await other.query('COMMIT');
      } finally {
        await other.end();
      }
      await until(async () => (await count(t, "target LIKE 'locked %'")) === 0, 5000);
    });
  }
});
