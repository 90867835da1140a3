import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from 'better-sqlite3';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { walSyncOf } from './sqlite-wal-sync';
import { writeGateOf } from './sqlite-write-gate';

/** The transaction count TypeORM keeps on each query runner (BaseQueryRunner), writable here. */
interface CountedRunner extends QueryRunner {
  isTransactionActive: boolean;
  transactionDepth: number;
  releasePostgresConnection?: (error?: Error) => Promise<void>;
}

const guarded = new WeakSet<QueryRunner>();
/** The outermost transaction a flow of work runs in (SQLite): its own nested calls are savepoints. */
const flows = new AsyncLocalStorage<object>();

/**
 * TypeORM counts a query runner's open transactions itself and leaves the count as it was when
 * COMMIT or ROLLBACK throws. SQLite rolls a transaction back on its own on SQLITE_FULL (and I/O
 * errors), so the ROLLBACK that follows fails; with SQLite's one shared runner, every later
 * transaction then opened as a SAVEPOINT inside a transaction that was never committed: answered,
 * readable, and gone at restart. After a failed COMMIT or ROLLBACK, this sets the count from what
 * the connection says (SQLite), or discards a PostgreSQL connection whose ROLLBACK failed rather
 * than hand it, maybe still inside a transaction, to the next request. On SQLite it also makes
 * each outermost transaction take its turn with the audit writer's thread (SqliteWriteGate), and
 * a transaction of another request waits for its turn there rather than becoming a savepoint of
 * the one open on TypeORM's one SQLite runner (whose ROLLBACK TO would undo it, and which a
 * stream of such requests kept open, the audit groups waiting). Where the connection syncs its
 * commits off the event loop (SqliteWalSync), a write answers only once its commit is on disk.
 * Call it on a new DataSource.
 */
export function recoverTransactionState(dataSource: DataSource): DataSource {
  if (dataSource.options.type === 'better-sqlite3') {
    // DataSource.transaction goes through its manager: the flow keeps the transaction it is in.
    const manager = dataSource.manager;
    const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => unknown;
    manager.transaction = ((...args: unknown[]) =>
      flows.run(flows.getStore() ?? {}, () =>
        transaction(...args),
      )) as EntityManager['transaction'];
  }
  const driver = dataSource.driver;
  const create = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => {
    const runner = create(mode);
    if (!guarded.has(runner)) {
      guarded.add(runner);
      guard(runner as CountedRunner, dataSource);
    }
    return runner;
  };
  return dataSource;
}

function guard(runner: CountedRunner, dataSource: DataSource): void {
  const commit = runner.commitTransaction.bind(runner);
  const rollback = runner.rollbackTransaction.bind(runner);
  const db =
    dataSource.options.type === 'better-sqlite3'
      ? (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection
      : undefined;
  const gate = db && writeGateOf(db);
  const durable = db && durableWrites(runner, db);
  /** Rows changed on the connection when the outermost transaction began. */
  let begun = 0;
  // The gate opens again once the outermost transaction is over, whichever way it ended.
  const idle = () => runner.transactionDepth === 0 && !db?.inTransaction;
  const ended = (committed = false) => {
    if (gate && idle()) gate.afterSharedEnd(idle, committed);
  };
  if (gate) {
    const start = runner.startTransaction.bind(runner);
    /** The flow whose transaction is open (undefined: one begun past DataSource.transaction). */
    let owner: object | undefined;
    runner.startTransaction = async (isolationLevel) => {
      const flow = flows.getStore();
      const nested = runner.transactionDepth > 0 && (owner === undefined || flow === owner);
      if (!nested) {
        await gate.beforeSharedBegin();
        owner = flow;
        begun = durable?.mark() ?? 0;
      }
      try {
        await start(isolationLevel);
      } catch (error) {
        ended();
        throw error;
      }
    };
  }
  runner.commitTransaction = async () => {
    let committed = false;
    try {
      await commit();
      committed = true;
    } catch (error) {
      afterFailure(runner, dataSource, 'commit', error);
      throw error;
    } finally {
      ended(committed);
    }
    // The next transaction may begin meanwhile: its commit joins this sync or the next.
    if (runner.transactionDepth === 0) await durable?.since(begun);
  };
  runner.rollbackTransaction = async () => {
    try {
      await rollback();
    } catch (error) {
      afterFailure(runner, dataSource, 'rollback', error);
      throw error;
    } finally {
      ended();
    }
  };
}

/**
 * On a connection that syncs its commits off the event loop: makes a statement outside any
 * transaction that changed rows wait until the WAL is on disk, and answers the same wait for an
 * outermost transaction (`since` its BEGIN); undefined where commits sync as they happen.
 */
const READ = /^\s*SELECT\b/i;

function durableWrites(
  runner: CountedRunner,
  db: Database,
): { mark(): number; since(mark: number): Promise<void> } | undefined {
  const sync = walSyncOf(db);
  if (!sync) return undefined;
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const mark = () => totalChanges.get() as number;
  const since = async (before: number) => {
    if (mark() !== before) await sync.flush();
  };
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = (async (...args: unknown[]) => {
    // A SELECT changes nothing: reads (most statements) skip the two counts.
    if (runner.transactionDepth > 0 || db.inTransaction || READ.test(String(args[0])))
      return query(...args);
    const before = mark();
    const result = await query(...args);
    if (!db.inTransaction) await since(before);
    return result;
  }) as QueryRunner['query'];
  return { mark, since };
}

function afterFailure(
  runner: CountedRunner,
  dataSource: DataSource,
  step: 'commit' | 'rollback',
  error: unknown,
): void {
  const type = dataSource.options.type;
  if (type === 'better-sqlite3') {
    const db = (dataSource.driver as unknown as { databaseConnection: Database })
      .databaseConnection;
    // Under WAL a ROLLBACK only drops pages held in memory; should one fail, it is retried once.
    if (step === 'rollback' && db.inTransaction && runner.transactionDepth <= 1) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // The count stays as it is: it then agrees with the connection.
      }
    }
    if (!db.inTransaction) reset(runner);
  } else if (type === 'postgres' && step === 'rollback') {
    // The server may still hold this connection inside a transaction: the pool must not reuse it.
    reset(runner);
    const release = runner.releasePostgresConnection?.bind(runner);
    if (release)
      runner.release = () => release(error instanceof Error ? error : new Error('rollback failed'));
  }
}

function reset(runner: CountedRunner): void {
  runner.isTransactionActive = false;
  runner.transactionDepth = 0;
}
