import type { DataSource } from 'typeorm';

/**
 * The admin changes of one SQLite database take turns, one at a time (its transaction, and the
 * sync that makes it durable), each turn starting once the event loop has served what arrived
 * during the last. SQLite commits one write at a time anyway; what the turns change is the event
 * loop's time: a stream of admin changes from many connections would otherwise take it from the
 * mints, which a few writers could slow to a third of their rate. What a change does before its
 * turn (validation, hashing a password in the thread pool) runs meanwhile.
 */
export class WriteTurns {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  /** Resolves with this change's turn; call the answer once the change is over. */
  take(): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      setImmediate(() => this.handOver());
    };
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(release);
    }
    return new Promise((granted) => this.waiting.push(() => granted(release)));
  }

  /** Runs `change` in its turn. */
  async run<T>(change: () => Promise<T>): Promise<T> {
    const release = await this.take();
    try {
      return await change();
    } finally {
      release();
    }
  }

  private handOver(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

const turns = new WeakMap<DataSource, WriteTurns>();

/** The turns of `dataSource`'s admin changes on SQLite; none on PostgreSQL, which runs writes in parallel. */
export function writeTurnsOf(dataSource: DataSource): WriteTurns | undefined {
  if (dataSource.options.type !== 'better-sqlite3') return undefined;
  let found = turns.get(dataSource);
  if (!found) turns.set(dataSource, (found = new WriteTurns()));
  return found;
}
