import type { Database } from 'better-sqlite3';

/**
 * Takes turns between the two writers of a SQLite file: the shared connection's transactions
 * (TypeORM's) and the audit writer's commits, which run in a thread of their own. In WAL mode a
 * transaction that has read and then writes fails at once (SQLITE_BUSY) if another connection
 * committed in between; so neither starts while the other is at it, and outermost transactions
 * of the shared connection go one at a time. The wait is a promise: the event loop never blocks on it.
 */
export class SqliteWriteGate {
  private sharedOpen = false;
  private auditCommitting = false;
  private waiting: (() => void)[] = [];

  /**
   * Before the shared connection's outermost BEGIN: waits for an audit commit in flight, and for
   * another outermost transaction (two BEGINs on one connection would fail the second).
   */
  async beforeSharedBegin(): Promise<void> {
    while (this.auditCommitting || this.sharedOpen) await this.turn();
    this.sharedOpen = true;
  }

  /** Once the shared connection's transaction has ended (committed or not). */
  afterSharedEnd(): void {
    if (!this.sharedOpen) return;
    this.sharedOpen = false;
    this.wake();
  }

  /** Before an audit group commits: waits while a shared transaction is open or a group commits. */
  async beforeAuditCommit(): Promise<void> {
    while (this.sharedOpen || this.auditCommitting) await this.turn();
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
