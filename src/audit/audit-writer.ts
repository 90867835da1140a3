import type { EntityManager, Repository } from 'typeorm';
import { sqliteConnectionOf } from '../database/sqlite-connection';
import type { AuditEventEntity } from './entities/audit-event.entity';
import { SqliteAuditWriter } from './sqlite-audit-writer';

/** An audit event as stored, before the database gives it an id. */
export type AuditRow = Omit<AuditEventEntity, 'id'>;

/**
 * What one prune batch did: the rows it deleted and how long its statement ran (milliseconds, not
 * counting its wait for its turn), or `busy` when another instance holds the prune lock
 * (PostgreSQL), so that this instance skips its pass.
 */
export type PruneBatch = { deleted: number; ms: number } | 'busy';

/**
 * The statement of one prune batch: up to `limit` rows recorded before a cut-off, oldest first.
 * `(at, id)` is the order of idx_audit_events_at, so the batch reads `limit` index entries and
 * never a row past the cut-off.
 */
export const PRUNE_BATCH_SQL =
  'DELETE FROM audit_events WHERE id IN ' +
  '(SELECT id FROM audit_events WHERE at < ? ORDER BY at, id LIMIT ?)';

/** The PostgreSQL advisory lock a prune batch holds for its transaction (a constant of this service). */
export const AUDIT_PRUNE_LOCK_KEY = 7_354_112_910;

/** Stores AuditService's group commits: one group of rows at a time. */
export interface AuditWriter {
  /** Stores `rows` in one commit; settles once they are stored. */
  write(rows: AuditRow[]): Promise<void>;
  /**
   * Deletes, in one commit, up to `limit` of the oldest rows recorded before `before` (epoch ms),
   * taking its turn with the groups as a write does.
   */
  prune(before: number, limit: number): Promise<PruneBatch>;
  /** Lets go of what the writer holds of its own (never the shared connection). */
  close(): Promise<void>;
  /**
   * Whether groups wait while a prune batch runs (SQLite: one writer for both, in turns); on
   * PostgreSQL they do not (the batch's rows are none of theirs): a pass makes way for them less.
   */
  readonly prunesInTurn: boolean;
}

/** The AuditWriter that AuditService writes its groups through (see auditWriterFor). */
export const AUDIT_WRITER = Symbol('AUDIT_WRITER');

/** A group in one multi-row INSERT through the events' repository (PostgreSQL). */
export class RepositoryAuditWriter implements AuditWriter {
  readonly prunesInTurn: boolean;

  constructor(private readonly events: Repository<AuditEventEntity>) {
    // SQLite has one writer: the shared connection's transactions and this one take turns.
    this.prunesInTurn = events.manager.connection.options.type !== 'postgres';
  }

  async write(rows: AuditRow[]): Promise<void> {
    await this.events.insert(rows);
  }

  /**
   * One transaction: on PostgreSQL it first tries the prune lock (pg_try_advisory_xact_lock) and
   * answers `busy` without deleting when another instance holds it.
   */
  prune(before: number, limit: number): Promise<PruneBatch> {
    const postgres = this.events.manager.connection.options.type === 'postgres';
    const sql = postgres ? numberedParameters(PRUNE_BATCH_SQL) : PRUNE_BATCH_SQL;
    return this.events.manager.transaction(async (manager: EntityManager) => {
      if (postgres) {
        const [{ locked }] = (await manager.query(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [AUDIT_PRUNE_LOCK_KEY],
        )) as { locked: boolean }[];
        if (!locked) return 'busy';
      }
      const started = performance.now();
      // TypeORM answers a DELETE with [rows, affected count].
      const [, deleted] = (await manager.query(sql, [before, limit])) as [unknown, number];
      return { deleted: Number(deleted ?? 0), ms: performance.now() - started };
    });
  }

  async close(): Promise<void> {}
}

/** `?` placeholders as PostgreSQL numbers them ($1, $2...). */
function numberedParameters(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

/**
 * The writer for the events' data source: on SQLite a SqliteAuditWriter beside its connection (a
 * connection of its own, in a worker thread), elsewhere the repository.
 */
export function auditWriterFor(events: Repository<AuditEventEntity>): AuditWriter {
  const connection = sqliteConnectionOf(events.manager.connection);
  return connection ? SqliteAuditWriter.beside(connection) : new RepositoryAuditWriter(events);
}
