import type { Database } from 'better-sqlite3';

/** What an audit group that waited too long for its turn fails with: a 503, as a busy database. */
export class GateTimeoutError extends Error {
  readonly code = 'SQLITE_BUSY';

  constructor(ms: number) {
    super(`the audit writer waited ${ms} ms for an open transaction to end`);
  }
}

type Side = 'shared' | 'audit';

/**
 * Takes turns between the two writers of a SQLite file: the shared connection's transactions
 * (TypeORM's) and the audit writer's commits, which run in a thread of their own. In WAL mode a
 * transaction that has read and then writes fails at once (SQLITE_BUSY) if another connection
 * committed in between; so an audit group never commits while a shared transaction is open, and
 * an outermost transaction waits for an audit commit in flight, and for the transaction of
 * another request that is open (transaction-recovery.ts: only a request's own nested calls become
 * savepoints). Waits are promises: the event loop never blocks on them.
 *
 * The turn is handed over, never raced for: each side waits in a queue of its own, first come
 * first served, and when both sides wait the turn alternates, so that neither a stream of admin
 * transactions nor a stream of audit groups keeps the other waiting.
 */
export class SqliteWriteGate {
  /** Who has the turn: one outermost shared transaction, one audit group, or nobody. */
  private holder?: Side;
  private releaseQueued = false;
  private readonly queues: Record<Side, (() => void)[]> = { shared: [], audit: [] };

  /** Before the shared connection's outermost BEGIN. */
  beforeSharedBegin(): Promise<void> {
    if (this.take('shared')) return Promise.resolve();
    return new Promise((resolve) => this.queues.shared.push(resolve));
  }

  /**
   * Once the shared connection's outermost transaction may be over: at once after a COMMIT that
   * succeeded; otherwise `stillIdle` is asked again after the current turn of the event loop,
   * since TypeORM follows a failed COMMIT with a ROLLBACK, which must not meet the next
   * transaction's BEGIN on the same runner.
   */
  afterSharedEnd(stillIdle: () => boolean, committed = false): void {
    if (this.holder !== 'shared' || this.releaseQueued) return;
    if (committed && stillIdle()) {
      this.handOver('shared');
      return;
    }
    this.releaseQueued = true;
    setImmediate(() => {
      this.releaseQueued = false;
      if (this.holder === 'shared' && stillIdle()) this.handOver('shared');
    });
  }

  /**
   * Before an audit group commits: waits while a shared transaction is open or a group commits,
   * at most `timeoutMs` (a host transaction that awaits an audit record would otherwise wait for
   * ever), then fails with GateTimeoutError and leaves the queue.
   */
  beforeAuditCommit(timeoutMs: number): Promise<void> {
    if (this.take('audit')) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const queue = this.queues.audit;
      const granted = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(granted), 1);
        reject(new GateTimeoutError(timeoutMs));
      }, timeoutMs);
      queue.push(granted);
    });
  }

  afterAuditCommit(): void {
    if (this.holder === 'audit') this.handOver('audit');
  }

  /** Takes a free turn; nobody waits while the turn is free, since a turn that ends is handed over. */
  private take(side: Side): boolean {
    if (this.holder) return false;
    this.holder = side;
    return true;
  }

  /** Ends `ending`'s turn: the other side's first waiter has the next one, else this side's. */
  private handOver(ending: Side): void {
    const other: Side = ending === 'shared' ? 'audit' : 'shared';
    const side = this.queues[other].length > 0 ? other : ending;
    const next = this.queues[side].shift();
    this.holder = next ? side : undefined;
    next?.();
  }
}

const gates = new WeakMap<Database, SqliteWriteGate>();

/** The one gate of a connection's file, as both writers see it. */
export function writeGateOf(db: Database): SqliteWriteGate {
  let gate = gates.get(db);
  if (!gate) gates.set(db, (gate = new SqliteWriteGate()));
  return gate;
}
