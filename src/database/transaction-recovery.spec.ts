import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jest } from '@jest/globals';
import { DataSource, type QueryRunner } from 'typeorm';
import { syncCommitsOffLoop, walSyncOf } from './sqlite-wal-sync';
import { writeGateOf } from './sqlite-write-gate';
import { recoverTransactionState } from './transaction-recovery';

describe('recoverTransactionState on SQLite', () => {
  let dir: string;
  let dataSource: DataSource;
  const connection = () =>
    (dataSource.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
  /** What another process reading the file sees: committed rows only. */
  const committed = () => {
    const reader = new Database(join(dir, 'test.sqlite'), { readonly: true });
    try {
      return (reader.prepare('SELECT v FROM t ORDER BY v').all() as { v: string }[]).map(
        (row) => row.v,
      );
    } finally {
      reader.close();
    }
  };
  const insert = (value: string) =>
    dataSource.transaction((manager) => manager.query('INSERT INTO t (v) VALUES (?)', [value]));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transaction-recovery-'));
    dataSource = recoverTransactionState(
      new DataSource({ type: 'better-sqlite3', database: join(dir, 'test.sqlite') }),
    );
    await dataSource.initialize();
    connection().pragma('journal_mode = WAL');
    await dataSource.query('CREATE TABLE t (v TEXT NOT NULL)');
  });
  afterEach(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the transactions that follow one that SQLite rolled back itself on SQLITE_FULL', async () => {
    const db = connection();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    // SQLite ends the transaction itself on SQLITE_FULL, so TypeORM's ROLLBACK fails after it.
    await expect(
      dataSource.transaction(async (manager) => {
        for (let i = 0; i < 100; i++)
          await manager.query('INSERT INTO t (v) VALUES (?)', ['x'.repeat(1000)]);
      }),
    ).rejects.toMatchObject({ driverError: { code: 'SQLITE_FULL' } });
    db.pragma('max_page_count = 1073741823');

    await insert('after-1');
    // A transaction that rolls back, as a refused request's does, must not leave one open.
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO t (v) VALUES (?)', ['rolled-back']);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await insert('after-2');

    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual(['after-1', 'after-2']);
  });

  it('lets a transaction that waited for its turn commit, after one that failed on SQLITE_FULL', async () => {
    const db = connection();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const failing = dataSource.transaction(async (manager) => {
      for (let i = 0; i < 100; i++)
        await manager.query('INSERT INTO t (v) VALUES (?)', ['x'.repeat(1000)]);
    });
    // Begun while the failing one is open: it waits for its turn, then runs whole.
    const waiting = dataSource.transaction(async (manager) => {
      db.pragma('max_page_count = 1073741823');
      await manager.query('INSERT INTO t (v) VALUES (?)', ['waited']);
      await manager.query('INSERT INTO t (v) VALUES (?)', ['waited-2']);
    });
    await expect(failing).rejects.toMatchObject({ driverError: { code: 'SQLITE_FULL' } });
    await waiting;
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual(['waited', 'waited-2']);
  });

  it('lets a waiting transaction commit whole after a COMMIT that failed (and the ROLLBACK after it)', async () => {
    const db = connection();
    const runner = dataSource.createQueryRunner() as QueryRunner & {
      query(sql: string, parameters?: unknown[]): Promise<unknown>;
    };
    // The first COMMIT fails the way a full disk fails it: SQLite has rolled back already.
    const query = runner.query.bind(runner);
    let fail = true;
    runner.query = async (sql: string, parameters?: unknown[]) => {
      if (sql === 'COMMIT' && fail) {
        fail = false;
        db.exec('ROLLBACK');
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      }
      return query(sql, parameters);
    };
    const failing = dataSource.transaction((manager) =>
      manager.query('INSERT INTO t (v) VALUES (?)', ['lost']),
    );
    const waiting = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO t (v) VALUES (?)', ['waited']);
      await manager.query('INSERT INTO t (v) VALUES (?)', ['waited-2']);
    });
    await expect(failing).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    await waiting;
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual(['waited', 'waited-2']);
  });

  it('takes turns with the audit writer: no transaction begins while a group commits', async () => {
    const gate = writeGateOf(connection());
    await gate.beforeAuditCommit(5000);
    let begun = false;
    const transaction = dataSource.transaction(async (manager) => {
      begun = true;
      await manager.query('INSERT INTO t (v) VALUES (?)', ['after-group']);
    });
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(begun).toBe(false);
    gate.afterAuditCommit();
    await transaction;
    expect(committed()).toEqual(['after-group']);
    // And a group waits for a transaction that is open.
    let release!: () => void;
    const open = dataSource.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    await expect(gate.beforeAuditCommit(20)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    release();
    await open;
    await gate.beforeAuditCommit(5000);
    gate.afterAuditCommit();
  });

  it("never makes another request's transaction a savepoint of the open one, which its rollback would undo", async () => {
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const refused = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO t (v) VALUES (?)', ['refused']);
      opened();
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('refused');
    });
    // Another request's change, begun while the first is open, and answered as saved.
    await open;
    const saved = insert('saved');
    await expect(refused).rejects.toThrow('refused');
    await saved;
    expect(committed()).toEqual(['saved']);
  });

  it('still nests a transaction begun inside an open one of the same flow, as a savepoint', async () => {
    await dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO t (v) VALUES (?)', ['outer']);
      await expect(
        dataSource.transaction(async (inner) => {
          await inner.query('INSERT INTO t (v) VALUES (?)', ['inner']);
          throw new Error('inner refused');
        }),
      ).rejects.toThrow('inner refused');
    });
    expect(committed()).toEqual(['outer']);
  });
});

describe('recoverTransactionState on SQLite, commits synced off the event loop', () => {
  let dir: string;
  let dataSource: DataSource;
  /** The syncs asked for, each ending when the test says so. */
  let syncs: (() => void)[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transaction-sync-'));
    syncs = [];
    dataSource = recoverTransactionState(
      new DataSource({
        type: 'better-sqlite3',
        database: join(dir, 'test.sqlite'),
        prepareDatabase: (db: Database.Database) => {
          db.pragma('journal_mode = WAL');
          syncCommitsOffLoop(db);
          jest
            .spyOn(walSyncOf(db)!, 'flush')
            .mockImplementation(() => new Promise<void>((done) => syncs.push(done)));
        },
      }),
    );
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE t (v TEXT NOT NULL)');
  });
  afterEach(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Whether `promise` settles within a few turns of the event loop. */
  const settlesSoon = async (promise: Promise<unknown>) => {
    let settled = false;
    void promise.then(() => (settled = true));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    return settled;
  };

  it('runs the connection with synchronous = NORMAL: the sync is its own', () => {
    const db = (dataSource.driver as unknown as { databaseConnection: Database.Database })
      .databaseConnection;
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('answers a transaction that wrote only once the WAL is synced', async () => {
    const write = dataSource.transaction((manager) =>
      manager.query('INSERT INTO t (v) VALUES (?)', ['durable']),
    );
    expect(await settlesSoon(write)).toBe(false);
    expect(syncs).toHaveLength(1);
    syncs[0]();
    await write;
  });

  it('answers a write outside a transaction only once the WAL is synced', async () => {
    const write = dataSource.query('INSERT INTO t (v) VALUES (?)', ['durable']);
    expect(await settlesSoon(write)).toBe(false);
    syncs[0]();
    await write;
  });

  it('never makes a read, or a transaction that only read, wait for a sync', async () => {
    expect(await settlesSoon(dataSource.query('SELECT v FROM t'))).toBe(true);
    expect(
      await settlesSoon(dataSource.transaction((manager) => manager.query('SELECT v FROM t'))),
    ).toBe(true);
    expect(syncs).toHaveLength(0);
  });
});

describe('recoverTransactionState on PostgreSQL', () => {
  /** A query runner whose ROLLBACK fails, as on a connection that timed out or broke. */
  function failingRunner() {
    const released: (Error | undefined)[] = [];
    const runner = {
      isTransactionActive: true,
      transactionDepth: 1,
      commitTransaction: (): Promise<void> => Promise.reject(new Error('COMMIT failed')),
      rollbackTransaction: (): Promise<void> => Promise.reject(new Error('ROLLBACK failed')),
      releasePostgresConnection: (error?: Error) => {
        released.push(error);
        return Promise.resolve();
      },
      release() {
        return this.releasePostgresConnection();
      },
    };
    return { runner, released };
  }

  it('hands a connection whose ROLLBACK failed back to the pool as broken, so it is never reused', async () => {
    const { runner, released } = failingRunner();
    const dataSource = {
      options: { type: 'postgres' },
      driver: { createQueryRunner: () => runner },
    } as unknown as DataSource;
    recoverTransactionState(dataSource);
    const created = dataSource.driver.createQueryRunner('master') as QueryRunner;

    await expect(created.commitTransaction()).rejects.toThrow('COMMIT failed');
    await expect(created.rollbackTransaction()).rejects.toThrow('ROLLBACK failed');
    await created.release();

    expect(released).toEqual([new Error('ROLLBACK failed')]);
    expect(created.isTransactionActive).toBe(false);
  });

  it('returns a connection whose COMMIT failed but ROLLBACK worked to the pool as sound', async () => {
    const { runner, released } = failingRunner();
    runner.rollbackTransaction = () => {
      runner.isTransactionActive = false;
      runner.transactionDepth = 0;
      return Promise.resolve();
    };
    const dataSource = {
      options: { type: 'postgres' },
      driver: { createQueryRunner: () => runner },
    } as unknown as DataSource;
    recoverTransactionState(dataSource);
    const created = dataSource.driver.createQueryRunner('master') as QueryRunner;

    await expect(created.commitTransaction()).rejects.toThrow('COMMIT failed');
    await created.rollbackTransaction();
    await created.release();

    expect(released).toEqual([undefined]);
  });
});
