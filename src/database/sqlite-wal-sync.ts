import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from 'better-sqlite3';

/**
 * Makes commits of a SQLite connection in WAL mode durable off the event loop. The connection
 * commits with `synchronous = NORMAL` (its COMMIT writes the WAL but does not sync it), then
 * `flush()` fdatasyncs the WAL file in libuv's thread pool, and whoever committed answers only
 * once it resolves: as durable as `synchronous = FULL`, without blocking every request for the
 * length of a disk sync. Commits made while a sync runs share the next one (a group commit).
 */
export class SqliteWalSync {
  private fd?: number;
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(
    private readonly db: Database,
    /** Syncs a descriptor's data (fs.fdatasync in the thread pool; tests count the calls). */
    private readonly datasync: (fd: number) => Promise<void> = (fd) =>
      new Promise((done, fail) => fdatasync(fd, (error) => (error ? fail(error) : done()))),
  ) {}

  /** Resolves once everything the connection committed before the call is on disk. */
  flush(): Promise<void> {
    if (!this.running) return (this.running = this.sync());
    // A sync already running may have begun before this commit: the next one covers it.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  /** Closes the WAL file's descriptor (the connection itself stays open). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return (this.running = this.sync());
  }

  private async sync(): Promise<void> {
    try {
      await this.datasync((this.fd ??= this.openWal()));
    } finally {
      this.running = undefined;
    }
  }

  /**
   * The WAL file stays the same file as long as a connection is open (SQLite only truncates or
   * rewrites it), so one descriptor serves. Its directory entry is synced once, when opened.
   */
  private openWal(): number {
    const fd = openSync(`${this.db.name}-wal`, 'r');
    const dir = openSync(dirname(this.db.name), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return fd;
  }
}

const syncs = new WeakMap<Database, SqliteWalSync>();

/**
 * For a connection that must be as durable as `synchronous = FULL`: sets it to NORMAL and
 * registers the sync that its writers (transaction-recovery.ts, the audit writer) await instead.
 */
export function syncCommitsOffLoop(db: Database): void {
  db.pragma('synchronous = NORMAL');
  syncs.set(db, new SqliteWalSync(db));
}

/** The off-loop sync of a connection set up by syncCommitsOffLoop, if it was. */
export function walSyncOf(db: Database): SqliteWalSync | undefined {
  return syncs.get(db);
}
