import { jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { DataSource, type Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { AuditPruner, type AuditRetention, auditRetention } from './audit-pruner';
import {
  AUDIT_PRUNE_LOCK_KEY,
  type AuditWriter,
  auditWriterFor,
  RepositoryAuditWriter,
} from './audit-writer';
import type { AuditService } from './audit.service';
import { AuditEventEntity } from './entities/audit-event.entity';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const clock = { now: () => NOW };

describe('AuditPruner', () => {
  let dataSource: DataSource;
  let events: Repository<AuditEventEntity>;
  let writer: AuditWriter;
  let metrics: MetricsService;
  /** Whether audit groups are being written, as the pruner sees it (AuditService.busy). */
  let audit: AuditService;
  /** The rows each prune batch was asked for, and what it deleted. */
  let batches: { limit: number; deleted: number | 'busy' }[];

  beforeEach(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      driver: Database,
      entities: [AuditEventEntity],
      synchronize: true,
    }).initialize();
    events = dataSource.getRepository(AuditEventEntity);
    const inner = auditWriterFor(events);
    batches = [];
    writer = {
      write: (rows) => inner.write(rows),
      prune: async (before, limit) => {
        const batch = await inner.prune(before, limit);
        batches.push({ limit, deleted: batch === 'busy' ? batch : batch.deleted });
        return batch;
      },
      close: () => inner.close(),
      prunesInTurn: inner.prunesInTurn,
    };
    metrics = new MetricsService();
    audit = { busy: false } as AuditService;
  });

  afterEach(async () => {
    await writer.close();
    await dataSource.destroy();
  });

  const pruner = (retention: Partial<AuditRetention> = {}) =>
    new AuditPruner(
      writer,
      { days: 365, intervalMs: 60_000, batchSize: 10, pauseMs: 0, ...retention },
      events,
      clock,
      metrics,
      audit,
    );

  /** Rows recorded at these instants, in this order (ids ascending). */
  const seed = (...ats: number[]) =>
    writer.write(
      ats.map((at, index) => ({
        at,
        actor: 'admin',
        action: 'token.mint',
        target: `row ${index}`,
        client: null,
        outcome: 'success' as const,
        details: null,
      })),
    );

  const targetsLeft = async () =>
    (await events.find({ order: { id: 'ASC' } })).map((event) => event.target);

  const metric = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)!.get()).values[0]?.value;

  it('deletes the rows older than the retention in batches, oldest first, and counts them', async () => {
    const old = NOW - 400 * DAY_MS;
    await seed(...Array.from({ length: 25 }, (_, i) => old + i), NOW - DAY_MS, NOW);
    expect(await pruner().pass()).toBe(25);
    expect(batches).toEqual([
      { limit: 10, deleted: 10 },
      { limit: 10, deleted: 10 },
      { limit: 10, deleted: 5 },
    ]);
    expect(await targetsLeft()).toEqual(['row 25', 'row 26']);
    expect(await metric('datafor_audit_rows_pruned_total')).toBe(25);
  });

  it('stops at the cut-off: a row recorded at it or after is kept, wherever its id lies', async () => {
    const cutoff = NOW - 365 * DAY_MS;
    // Ids and times disagree (another instance's clock, a late insert): time decides.
    await seed(cutoff, cutoff - 1, NOW, cutoff - 2 * DAY_MS, cutoff + 1);
    expect(await pruner({ batchSize: 1 }).pass()).toBe(2);
    expect(await targetsLeft()).toEqual(['row 0', 'row 2', 'row 4']);
    // One batch per row, then one that finds none.
    expect(batches.map((batch) => batch.deleted)).toEqual([1, 1, 0]);
  });

  it('prunes nothing with a retention of 0, and still reads the oldest row for its age', async () => {
    await seed(NOW - 10_000 * DAY_MS, NOW);
    expect(await pruner({ days: 0 }).pass()).toBe(0);
    expect(batches).toEqual([]);
    expect(await targetsLeft()).toEqual(['row 0', 'row 1']);
    expect(await metric('datafor_audit_oldest_row_age_seconds')).toBeGreaterThan(
      (10_000 * DAY_MS) / 1000,
    );
  });

  it('reads the age of the oldest row left after a pass, 0 when none is left', async () => {
    await seed(NOW - 400 * DAY_MS);
    const prune = pruner();
    await prune.pass();
    expect(await metric('datafor_audit_oldest_row_age_seconds')).toBe(0);
    await seed(Date.now() - 3_600_000);
    await prune.pass();
    const age = await metric('datafor_audit_oldest_row_age_seconds');
    expect(age).toBeGreaterThanOrEqual(3600);
    expect(age).toBeLessThan(3700);
  });

  it('skips the rest of its pass when another instance holds the prune lock', async () => {
    await seed(...Array.from({ length: 30 }, () => NOW - 400 * DAY_MS));
    let calls = 0;
    const busyAfterOne = { ...writer };
    busyAfterOne.prune = async (before, limit) =>
      ++calls === 1 ? writer.prune(before, limit) : 'busy';
    const prune = new AuditPruner(
      busyAfterOne,
      { days: 365, intervalMs: 60_000, batchSize: 10, pauseMs: 0 },
      events,
      clock,
      metrics,
      audit,
    );
    expect(await prune.pass()).toBe(10);
    expect(calls).toBe(2);
    expect((await targetsLeft()).length).toBe(20);
  });

  it('stops between batches once the module is destroyed', async () => {
    await seed(...Array.from({ length: 30 }, () => NOW - 400 * DAY_MS));
    const prune = pruner({ pauseMs: 60_000 });
    const passing = prune.pass();
    await new Promise((resolve) => setImmediate(resolve));
    await prune.onModuleDestroy();
    expect(await passing).toBe(10);
    expect((await targetsLeft()).length).toBe(20);
  });

  describe('its pace', () => {
    /** When each batch was asked for, by the fake clock. */
    let asked: number[];
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      asked = [];
    });
    afterEach(() => jest.useRealTimers());

    /** A pass over batches that answer `runs` in turn (rows deleted, ms their statement ran). */
    const passOver = (
      runs: { deleted: number; ms: number }[],
      retention: Partial<AuditRetention>,
      prunesInTurn = true,
    ) =>
      new AuditPruner(
        {
          ...writer,
          prunesInTurn,
          prune: async () => {
            asked.push(Date.now());
            return runs[asked.length - 1];
          },
        },
        { days: 365, intervalMs: 60_000, batchSize: 10, ...retention },
        events,
        clock,
        metrics,
        audit,
      ).pass();
    /** Lets the pass run up to its next timer. */
    const settle = async () => {
      for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r));
    };
    /** Moves the fake clock on by `ms`, then lets the pass run. */
    const wait = async (ms: number) => {
      await jest.advanceTimersByTimeAsync(ms);
      await settle();
    };

    it('pauses nine times as long as a batch ran, and never less than its pause', async () => {
      // Full batches that ran 20 ms, then 1 ms, then a last one that finds too few rows.
      const passing = passOver(
        [
          { deleted: 10, ms: 20 },
          { deleted: 10, ms: 1 },
          { deleted: 3, ms: 1 },
        ],
        { pauseMs: 50 },
      );
      await settle();
      expect(asked).toHaveLength(1);
      await wait(179);
      expect(asked).toHaveLength(1);
      await wait(1);
      expect(asked).toHaveLength(2);
      // 1 ms of work: the pause's floor, 50 ms.
      await wait(49);
      expect(asked).toHaveLength(2);
      await wait(1);
      expect(asked).toHaveLength(3);
      expect(await passing).toBe(23);
    });

    it('pauses long after a batch that ended while audit groups were being written', async () => {
      (audit as { busy: boolean }).busy = true;
      const passing = passOver(
        [
          { deleted: 10, ms: 1 },
          { deleted: 10, ms: 5 },
          { deleted: 10, ms: 1 },
          { deleted: 0, ms: 1 },
        ],
        { pauseMs: 20, busyPauseMs: 250 },
      );
      await settle();
      // 1 ms of work beside the groups: the busy floor, 250 ms.
      await wait(249);
      expect(asked).toHaveLength(1);
      await wait(1);
      expect(asked).toHaveLength(2);
      // 5 ms of work beside the groups: 99 times it. The groups stop meanwhile: the pause that
      // began stays long; the next one is the quiet floor.
      (audit as { busy: boolean }).busy = false;
      await wait(494);
      expect(asked).toHaveLength(2);
      await wait(1);
      expect(asked).toHaveLength(3);
      await wait(20);
      expect(asked).toHaveLength(4);
      expect(await passing).toBe(30);
    });

    it('pauses nine times a batch beside the groups where they never wait for it (PostgreSQL)', async () => {
      (audit as { busy: boolean }).busy = true;
      const passing = passOver(
        [
          { deleted: 10, ms: 1 },
          { deleted: 10, ms: 50 },
          { deleted: 0, ms: 1 },
        ],
        { pauseMs: 20, busyPauseMs: 250 },
        false,
      );
      await settle();
      // The busy floor, 250 ms; then 50 ms of work: nine times it, 450 ms.
      await wait(249);
      expect(asked).toHaveLength(1);
      await wait(1);
      expect(asked).toHaveLength(2);
      await wait(449);
      expect(asked).toHaveLength(2);
      await wait(1);
      expect(asked).toHaveLength(3);
      expect(await passing).toBe(20);
    });
  });

  it('runs one pass at a time', async () => {
    await seed(...Array.from({ length: 5 }, () => NOW - 400 * DAY_MS));
    const prune = pruner();
    const [first, second] = await Promise.all([prune.pass(), prune.pass()]);
    expect([first, second]).toEqual([5, 5]);
    expect(batches.length).toBe(1);
  });
});

describe('RepositoryAuditWriter.prune on PostgreSQL', () => {
  /** A repository whose transactions answer the advisory lock with `locked` and record the SQL. */
  function repository(locked: boolean) {
    const queries: { sql: string; parameters: unknown[] }[] = [];
    const manager = {
      query: async (sql: string, parameters: unknown[]) => {
        queries.push({ sql, parameters });
        return sql.startsWith('SELECT pg_try_advisory_xact_lock') ? [{ locked }] : [[], 7];
      },
    };
    const events = {
      manager: {
        connection: { options: { type: 'postgres' } },
        transaction: (work: (m: typeof manager) => Promise<unknown>) => work(manager),
      },
    } as unknown as Repository<AuditEventEntity>;
    return { events, queries };
  }

  it('deletes one batch, oldest first, under the prune lock', async () => {
    const { events, queries } = repository(true);
    expect(await new RepositoryAuditWriter(events).prune(1000, 50)).toEqual({
      deleted: 7,
      ms: expect.any(Number),
    });
    expect(queries).toEqual([
      {
        sql: 'SELECT pg_try_advisory_xact_lock($1) AS locked',
        parameters: [AUDIT_PRUNE_LOCK_KEY],
      },
      {
        sql:
          'DELETE FROM audit_events WHERE id IN ' +
          '(SELECT id FROM audit_events WHERE at < $1 ORDER BY at, id LIMIT $2)',
        parameters: [1000, 50],
      },
    ]);
  });

  it('answers busy, deleting nothing, when another instance holds the lock', async () => {
    const { events, queries } = repository(false);
    expect(await new RepositoryAuditWriter(events).prune(1000, 50)).toBe('busy');
    expect(queries).toHaveLength(1);
  });
});

describe('auditRetention', () => {
  it('takes whole days from 0 to 36500 and an interval from 1 to 86400 seconds', () => {
    expect(auditRetention(0, 1)).toEqual({ days: 0, intervalMs: 1000 });
    expect(auditRetention(36500, 86400)).toEqual({ days: 36500, intervalMs: 86_400_000 });
    for (const days of [-1, 36501, 1.5, Number.NaN]) {
      expect(() => auditRetention(days, 60)).toThrow(RangeError);
    }
    for (const seconds of [0, 86401, 0.5]) {
      expect(() => auditRetention(365, seconds)).toThrow(RangeError);
    }
  });
});
