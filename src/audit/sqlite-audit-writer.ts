import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from 'better-sqlite3';
import type { AuditEventEntity } from './entities/audit-event.entity';

export type AuditRow = Omit<AuditEventEntity, 'id'>;

/** How long a group waits, at most, for a transaction of the shared connection to let go of the write lock. */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_FULL_SYNC = 2;

/**
 * The audit trail's own connection to the service's SQLite file (WAL mode), for the group commits
 * of `AuditService.record`:
 * - its transactions are its own: a group never joins a transaction that TypeORM holds open on
 *   the shared connection across awaits (and would roll back with it after being acknowledged);
 * - the disk sync leaves the event loop: a group commits with `synchronous = NORMAL`, then, when
 *   the shared connection syncs every commit (FULL, the default), the WAL file is fdatasync'ed on
 *   libuv's thread pool before any caller of the group hears back. A group is thus as durable as
 *   a FULL commit, without blocking every other request for the length of an fsync.
 * While the shared connection holds the write lock, a group retries after a short sleep rather
 * than wait in SQLite's busy handler, which would block the very event loop the lock's holder needs.
 */
export class SqliteAuditWriter {
  private readonly insertGroup: { immediate(rows: AuditRow[]): void };
  private readonly walFile: string;
  /**
   * Open as long as this connection is: SQLite removes the WAL file only when the last connection
   * to the database closes, so the descriptor keeps naming the live one.
   */
  private wal?: Promise<FileHandle>;

  private constructor(
    private readonly db: Database,
    private readonly own: boolean,
    private readonly syncEachGroup: boolean,
    private readonly sync?: (file: string) => Promise<void>,
  ) {
    this.walFile = `${db.name}-wal`;
    const statement = db.prepare(
      'INSERT INTO audit_events (at, actor, action, target, client, outcome, details) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertGroup = db.transaction((rows: AuditRow[]) => {
      for (const row of rows) {
        statement.run(
          row.at,
          row.actor,
          row.action,
          row.target,
          row.client,
          row.outcome,
          row.details === null ? null : JSON.stringify(row.details),
        );
      }
    });
  }

  /**
   * A writer with its own connection beside `shared` (TypeORM's). Where a second connection would
   * not see the same data the same way (an in-memory database, a journal mode other than WAL), one
   * that writes on `shared` itself, in its transaction if one is open.
   */
  static beside(shared: Database, sync?: (file: string) => Promise<void>): SqliteAuditWriter {
    const separate =
      !shared.memory &&
      !shared.readonly &&
      shared.pragma('journal_mode', { simple: true }) === 'wal';
    if (!separate) return new SqliteAuditWriter(shared, false, false, sync);
    // The class of the shared connection: better-sqlite3 is an optional peer of this package.
    const Connection = shared.constructor as new (
      file: string,
      options: { fileMustExist: boolean },
    ) => Database;
    const db = new Connection(shared.name, { fileMustExist: true });
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 0');
    const syncEachGroup =
      (shared.pragma('synchronous', { simple: true }) as number) >= SQLITE_FULL_SYNC;
    return new SqliteAuditWriter(db, true, syncEachGroup, sync);
  }

  /** Commits the rows in one transaction; settles once they are on disk as the shared connection would have them. */
  async write(rows: AuditRow[]): Promise<void> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        this.insertGroup.immediate(rows);
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline)
          throw error;
      }
      await sleep(wait);
    }
    if (this.syncEachGroup) await (this.sync ?? this.syncWal)(this.walFile);
  }

  /** Closes its own connection (never the shared one). */
  close(): void {
    void this.wal?.then((handle) => handle.close()).catch(() => undefined);
    this.wal = undefined;
    if (this.own && this.db.open) this.db.close();
  }

  /** fdatasync on libuv's thread pool: the event loop goes on meanwhile. */
  private readonly syncWal = async (file: string): Promise<void> => {
    this.wal ??= open(file, 'r').catch((error: unknown) => {
      this.wal = undefined;
      throw error;
    });
    await (await this.wal).datasync();
  };
}
