import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataSource, type QueryRunner } from 'typeorm';
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
