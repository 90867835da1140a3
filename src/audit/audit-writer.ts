import type { Repository } from 'typeorm';
import { sqliteConnectionOf } from '../database/sqlite-connection';
import type { AuditEventEntity } from './entities/audit-event.entity';
import { SqliteAuditWriter } from './sqlite-audit-writer';

/** An audit event as stored, before the database gives it an id. */
export type AuditRow = Omit<AuditEventEntity, 'id'>;

/** Stores AuditService's group commits: one group of rows at a time. */
export interface AuditWriter {
  /** Stores `rows` in one commit; settles once they are stored. */
  write(rows: AuditRow[]): Promise<void>;
  /** Lets go of what the writer holds of its own (never the shared connection). */
  close(): Promise<void>;
}

/** The AuditWriter that AuditService writes its groups through (see auditWriterFor). */
export const AUDIT_WRITER = Symbol('AUDIT_WRITER');

/** A group in one multi-row INSERT through the events' repository (PostgreSQL). */
export class RepositoryAuditWriter implements AuditWriter {
  constructor(private readonly events: Repository<AuditEventEntity>) {}

  async write(rows: AuditRow[]): Promise<void> {
    await this.events.insert(rows);
  }

  async close(): Promise<void> {}
}

/**
 * The writer for the events' data source: on SQLite a SqliteAuditWriter beside its connection (a
 * connection of its own, in a worker thread), elsewhere the repository.
 */
export function auditWriterFor(events: Repository<AuditEventEntity>): AuditWriter {
  const connection = sqliteConnectionOf(events.manager.connection);
  return connection ? SqliteAuditWriter.beside(connection) : new RepositoryAuditWriter(events);
}
