import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database, Statement } from 'better-sqlite3';
import { walSyncOf } from '../database/sqlite-wal-sync';
import { type SqliteWriteGate, writeGateOf } from '../database/sqlite-write-gate';
import { type AuditRow, type AuditWriter, PRUNE_BATCH_SQL, type PruneBatch } from './audit-writer';

/** How long a group waits, at most, for a transaction of the shared connection to let go of the write lock. */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_FULL_SYNC = 2;
const CLOSE_TIMEOUT_MS = 5000;
/** The code of a group whose thread died or was closed: a 503, as a database that is unavailable. */
export const WRITER_GONE = 'ERR_AUDIT_WRITER_GONE';

export interface AuditWriterOptions {
  /** The longest wait for the write lock (default 5 s), then SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** The better-sqlite3 module the thread loads, by path (default: the one this module loads). */
  driver?: string;
}

/** A prune batch: rows recorded before `before` (epoch ms), at most `limit` of them. */
type PruneRequest = { prune: { before: number; limit: number } };
/** What the writer's thread is told: a group to commit, a batch to prune, or to close. */
type Request = { id: number } & ({ rows: AuditRow[] } | PruneRequest | { close: true });
/** A request's answer; a group is first `committed` (the write lock let go of), then answered. */
type Reply = {
  id: number;
  committed?: true;
  /** The rows a prune batch deleted, and how long its statement ran. */
  pruned?: { deleted: number; ms: number };
  /** The thread could not open the database: it takes no more work. */
  fatal?: true;
  error?: { message: string; code?: unknown };
};

/**
 * A transaction function that inserts a group's rows on `db` (its `immediate` takes the write lock
 * at once). Self-contained: the writer's thread runs it from its source too.
 */
function groupInserter(db: Database) {
  const statement = db.prepare(
    'INSERT INTO audit_events (at, actor, action, target, client, outcome, details) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return db.transaction((rows: AuditRow[]) => {
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
 * The writer's thread, as the source of a function: it runs in a worker of its own, so it uses no
 * binding of this module but groupInserter (whose source goes with it), and loads the same
 * better-sqlite3 the service does, by its path.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function writerThread(): void {
  const { parentPort, workerData } =
    require('node:worker_threads') as typeof import('node:worker_threads');
  const { closeSync, fdatasyncSync, fsyncSync, openSync } =
    require('node:fs') as typeof import('node:fs');
  const { dirname } = require('node:path') as typeof import('node:path');
  const { driver, file, syncEachGroup, busyTimeoutMs, pruneSql } = workerData as {
    driver: string;
    file: string;
    syncEachGroup: boolean;
    busyTimeoutMs: number;
    pruneSql: string;
  };
  const errorOf = (error: unknown) => {
    const { message, code } = error as { message: string; code?: unknown };
    return { message, code };
  };
  let db: Database;
  let insertGroup: ReturnType<typeof groupInserter>;
  let pruneBatch: Statement<[number, number]>;
  try {
    const Connection = require(driver) as new (
      file: string,
      options: { fileMustExist: boolean },
    ) => Database;
    db = new Connection(file, { fileMustExist: true });
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // The commit only writes the WAL; the sync comes after, once the write lock is let go of.
    db.pragma('synchronous = NORMAL');
    insertGroup = groupInserter(db);
    pruneBatch = db.prepare<[number, number]>(pruneSql);
  } catch (error) {
    // Every request hears why; the writer then drops this thread and starts another next time.
    const failure = errorOf(error);
    parentPort!.on('message', ({ id }: Request) =>
      parentPort!.postMessage({ id, error: failure, fatal: true } satisfies Reply),
    );
    return;
  }
  // Open as long as the connection is: SQLite removes the WAL file only when the last connection
  // to the database closes, so the descriptor keeps naming the live one. Its directory entry is
  // synced once, when it is first opened here.
  let wal: number | undefined;
  const openWal = () => {
    const fd = openSync(`${file}-wal`, 'r');
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return fd;
  };
  // After a failed sync the kernel may have dropped the dirty pages and report the next sync as a
  // success: this thread then takes no more work, and the writer starts another.
  let broken: ReturnType<typeof errorOf> | undefined;
  parentPort!.on('message', (request: Request) => {
    if (broken) {
      parentPort!.postMessage({ id: request.id, error: broken, fatal: true } satisfies Reply);
      return;
    }
    let reply: Reply;
    try {
      if ('rows' in request) {
        insertGroup.immediate(request.rows);
        parentPort!.postMessage({ id: request.id, committed: true } satisfies Reply);
        if (syncEachGroup) {
          try {
            fdatasyncSync((wal ??= openWal()));
          } catch (error) {
            broken = errorOf(error);
            parentPort!.postMessage({ id: request.id, error: broken, fatal: true } satisfies Reply);
            return;
          }
        }
        reply = { id: request.id };
      } else if ('prune' in request) {
        // Not synced: a batch lost to a machine crash is deleted again by a later pass, and the
        // next group's sync covers it anyway.
        const { before, limit } = request.prune;
        const started = performance.now();
        const deleted = pruneBatch.run(before, limit).changes;
        reply = { id: request.id, pruned: { deleted, ms: performance.now() - started } };
      } else {
        if (wal !== undefined) closeSync(wal);
        db.close();
        reply = { id: request.id };
      }
    } catch (error) {
      reply = { id: request.id, error: errorOf(error) };
    }
    parentPort!.postMessage(reply);
  });
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Where better-sqlite3 is, as this module would load it; undefined where it cannot be found. */
function driverPath(): string | undefined {
  try {
    // Compiled as CommonJS, this module has its own file name; under Jest's ES modules, the project's.
    const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
    return createRequire(from).resolve('better-sqlite3');
  } catch {
    return undefined;
  }
}

export const SqliteAuditWriter = {
  /**
   * The writer of `AuditService`'s group commits on SQLite (WAL mode): a connection of its own to
   * the service's file, in a worker thread.
   * - Its transactions are its own: a group never joins a transaction that TypeORM holds open on
   *   the shared connection across awaits (and would roll back with it after being acknowledged).
   * - It is as durable as the shared connection (FULL by default, synced off the event loop): a group
   *   commits with `synchronous = NORMAL`, then the WAL file is fdatasync'ed before any caller
   *   of the group hears back, so the write lock is not held for the length of a sync. The
   *   commit, the sync and the WAL checkpoints cost the event loop nothing: they happen in the
   *   worker, as does a wait for the write lock (up to 5 s, then SQLITE_BUSY).
   * - A group and a transaction of the shared connection take turns (SqliteWriteGate): in WAL
   *   mode, a commit landing between a transaction's read and its write would fail the write.
   * Where a second connection would not see the same data the same way (an in-memory database, a
   * journal mode other than WAL), or better-sqlite3 cannot be found by path, the groups are written
   * on `shared` itself, in its transaction if one is open.
   */
  beside(shared: Database, options: AuditWriterOptions = {}): AuditWriter {
    const driver = options.driver ?? driverPath();
    const separate =
      driver !== undefined &&
      !shared.memory &&
      !shared.readonly &&
      shared.pragma('journal_mode', { simple: true }) === 'wal';
    if (!separate) return new SharedConnectionWriter(shared);
    return new ThreadWriter(writeGateOf(shared), {
      driver,
      file: shared.name,
      syncEachGroup:
        walSyncOf(shared) !== undefined ||
        (shared.pragma('synchronous', { simple: true }) as number) >= SQLITE_FULL_SYNC,
      busyTimeoutMs: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
      pruneSql: PRUNE_BATCH_SQL,
    });
  },
};

class SharedConnectionWriter implements AuditWriter {
  readonly prunesInTurn = true;
  private readonly insertGroup: (rows: AuditRow[]) => void;
  private readonly pruneBatch: Statement<[number, number]>;

  constructor(private readonly db: Database) {
    this.insertGroup = groupInserter(db);
    this.pruneBatch = db.prepare<[number, number]>(PRUNE_BATCH_SQL);
  }

  async write(rows: AuditRow[]): Promise<void> {
    this.insertGroup(rows);
  }

  async prune(before: number, limit: number): Promise<PruneBatch> {
    const started = performance.now();
    const deleted = this.pruneBatch.run(before, limit).changes;
    return { deleted, ms: performance.now() - started };
  }

  async close(): Promise<void> {}
}

class ThreadWriter implements AuditWriter {
  readonly prunesInTurn = true;
  private worker?: Worker;
  private closed = false;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { worker: Worker; settle(reply: Reply): void; committed?(): void }
  >();

  constructor(
    private readonly gate: SqliteWriteGate,
    private readonly workerData: {
      driver: string;
      file: string;
      syncEachGroup: boolean;
      busyTimeoutMs: number;
      pruneSql: string;
    },
  ) {}

  async write(rows: AuditRow[]): Promise<void> {
    await this.gate.beforeAuditCommit(this.workerData.busyTimeoutMs);
    let holding = true;
    const release = () => {
      if (holding) this.gate.afterAuditCommit();
      holding = false;
    };
    try {
      await this.ask({ rows }, release);
    } finally {
      release();
    }
  }

  /** A prune batch in the thread, in the same turns as the groups (the gate, then the thread's queue). */
  async prune(before: number, limit: number): Promise<PruneBatch> {
    await this.gate.beforeAuditCommit(this.workerData.busyTimeoutMs);
    try {
      const { pruned } = await this.ask({ prune: { before, limit } });
      return pruned ?? { deleted: 0, ms: 0 };
    } finally {
      this.gate.afterAuditCommit();
    }
  }

  /** Writes what it has in hand, then closes its connection; it takes no work after. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.ask({ close: true }, undefined, true).catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    this.worker = undefined;
    await worker.terminate();
  }

  private ask(
    request: { rows: AuditRow[] } | PruneRequest | { close: true },
    committed?: () => void,
    closing = false,
  ) {
    if (this.closed && !closing)
      return Promise.reject(
        Object.assign(new Error('the audit writer is closed'), { code: WRITER_GONE }),
      );
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, {
        worker,
        committed,
        settle: (reply) =>
          reply.error
            ? reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }))
            : resolve(reply),
      });
      // A thread with work in hand keeps the process alive; an idle one does not.
      worker.ref();
      worker.postMessage({ id, ...request } as Request);
    });
  }

  /** The worker, started on first use and again after one that failed. */
  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(`${groupInserter.toString()}\n(${writerThread.toString()})()`, {
      eval: true,
      workerData: this.workerData,
    });
    worker.on('message', (reply: Reply) => {
      if (reply.committed) {
        this.pending.get(reply.id)?.committed?.();
        return;
      }
      if (reply.fatal && this.worker === worker) {
        this.worker = undefined;
        void worker.terminate();
      }
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!this.inHand(worker)) worker.unref();
      waiting?.settle(reply);
    });
    // A thread that dies: the groups it had in hand fail, and the next write starts another.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      const code = (error as { code?: unknown }).code ?? WRITER_GONE;
      for (const [id, waiting] of this.pending) {
        if (waiting.worker !== worker) continue;
        this.pending.delete(id);
        waiting.settle({ id, error: { message: error.message, code } });
      }
    };
    worker.on('error', fail);
    worker.on('exit', (exitCode) =>
      fail(new Error(`the audit writer's thread exited (${exitCode})`)),
    );
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private inHand(worker: Worker): boolean {
    for (const waiting of this.pending.values()) if (waiting.worker === worker) return true;
    return false;
  }
}
