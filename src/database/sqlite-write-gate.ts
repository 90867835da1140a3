import type { Database } from 'better-sqlite3';

/** What an audit group that waited too long for its turn fails with: a 503, as a busy database. */
export class GateTimeoutError extends Error {
  readonly code = 'SQLITE_BUSY';

  constructor(ms: number) {
    super(`the audit writer waited ${ms} ms for an open transaction to end`);
  }
}

/**
 * Takes turns between the two writers of a SQLite file: the shared connection's transactions
 * (TypeORM's) and the audit writer's commits, which run in a thread of their own. In WAL mode a
 * transaction that has read and then writes fails at once (SQLITE_BUSY) if another connection
 * committed in between; so an audit group never commits while a shared transaction is open, and
 * a transaction that begins at depth 0 waits for an audit commit in flight, and for another one
 * that began the same way. (A transaction that begins while another is open on TypeORM's one
 * SQLite runner becomes a savepoint of it, as it always did.) Waits are promises: the event loop
 * never blocks on them.
 */
export class SqliteWriteGate {
  private sharedOpen = false;
  private auditCommitting = false;
  private releaseQueued = false;
  private waiting: (() => void)[] = [];

  /** Before the shared connection's outermost BEGIN. */
  async beforeSharedBegin(): Promise<void> {
    while (this.auditCommitting || this.sharedOpen) await this.turn();
    this.sharedOpen = true;
  }

  /**
   * Once the shared connection's outermost transaction may be over: `stillIdle` is asked again
   * after the current turn of the event loop, since TypeORM follows a failed COMMIT with a
   * ROLLBACK, which must not meet the next transaction's BEGIN on the same runner.
   */
  afterSharedEnd(stillIdle: () => boolean): void {
    if (!this.sharedOpen || this.releaseQueued) return;
    this.releaseQueued = true;
    setImmediate(() => {
      this.releaseQueued = false;
      if (!this.sharedOpen || !stillIdle()) return;
      this.sharedOpen = false;
      this.wake();
    });
  }

  /**
   * Before an audit group commits: waits while a shared transaction is open or a group commits,
   * at most `timeoutMs` (a host transaction that awaits an audit record would otherwise wait for
   * ever), then fails with GateTimeoutError.
   */
  async beforeAuditCommit(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sharedOpen || this.auditCommitting) {
      const left = deadline - Date.now();
      if (left <= 0) throw new GateTimeoutError(timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.turn(),
        new Promise((resolve) => (timer = setTimeout(resolve, left))),
      ]);
      clearTimeout(timer);
    }
    this.auditCommitting = true;
  }

  afterAuditCommit(): void {
    this.auditCommitting = false;
    this.wake();
  }

  private turn(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

const gates = new WeakMap<Database, SqliteWriteGate>();

/** The one gate of a connection's file, as both writers see it. */
export function writeGateOf(db: Database): SqliteWriteGate {
  let gate = gates.get(db);
  if (!gate) gates.set(db, (gate = new SqliteWriteGate()));
  return gate;
}
