import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PROBED_SQLITE, probedPragma } from '../../test/support/probed-sqlite';
import type { AuditRow, AuditWriter } from './audit-writer';
import { SqliteAuditWriter } from './sqlite-audit-writer';

const row = (target: string): AuditRow => ({
  at: Date.now(),
  actor: 'admin',
  action: 'token.mint',
  target,
  client: '127.0.0.1',
  outcome: 'success',
  details: { jti: target },
});

const targets = (db: Database.Database) =>
  (db.prepare('SELECT target FROM audit_events ORDER BY id').all() as { target: string }[]).map(
    (found) => found.target,
  );

describe('SqliteAuditWriter', () => {
  let dir: string;
  let shared: Database.Database;
  let writer: AuditWriter | undefined;

  function openShared(synchronous: 'FULL' | 'NORMAL', file = join(dir, 'audit.sqlite')) {
    shared = new Database(file);
    shared.pragma('journal_mode = WAL');
    shared.pragma(`synchronous = ${synchronous}`);
    shared.exec(
      'CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, ' +
        'actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, client TEXT, ' +
        'outcome TEXT NOT NULL, details TEXT)',
    );
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-writer-'));
  });
  afterEach(async () => {
    await writer?.close();
    writer = undefined;
    if (shared.open) shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits a group on its own connection, as durably as the shared connection (FULL)', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared, { driver: PROBED_SQLITE });
    await writer.write([row('a'), row('b')]);
    // Settled: the rows are committed, and another connection sees them.
    expect(targets(shared)).toEqual(['a', 'b']);
    // It commits without a sync, which the thread then makes on the WAL file itself.
    expect(await probedPragma(shared.name, 'synchronous')).toBe(1);
    expect((writer as unknown as { workerData: { syncEachGroup: boolean } }).workerData).toEqual(
      expect.objectContaining({ syncEachGroup: true }),
    );
    expect(await probedPragma(shared.name, 'busy_timeout')).toBe(5000);
  });

  it('syncs no more than the shared connection does (SQLITE_SYNCHRONOUS=normal)', async () => {
    openShared('NORMAL');
    writer = SqliteAuditWriter.beside(shared);
    await writer.write([row('a')]);
    expect((writer as unknown as { workerData: { syncEachGroup: boolean } }).workerData).toEqual(
      expect.objectContaining({ syncEachGroup: false }),
    );
    expect(targets(shared)).toEqual(['a']);
  });

  it('keeps the event loop free while it waits for the write lock', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared);
    await writer.write([row('first')]);
    shared.exec('BEGIN IMMEDIATE');
    let settled = false;
    const writing = writer.write([row('second')]).then(() => (settled = true));
    // Timers still fire here while the writer's thread waits in SQLite's busy handler.
    let ticks = 0;
    for (; ticks < 5; ticks++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ticks).toBe(5);
    expect(settled).toBe(false);
    shared.exec('COMMIT');
    await writing;
    expect(targets(shared)).toEqual(['first', 'second']);
  });

  it('prunes in its thread, oldest first, in the same turns as the groups', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared);
    await writer.write([
      { ...row('old 2'), at: 2 },
      { ...row('old 1'), at: 1 },
      { ...row('old 3'), at: 3 },
      { ...row('new'), at: 100 },
    ]);
    // A prune waits for an open shared transaction, as a group does, and never joins it.
    shared.exec('BEGIN IMMEDIATE');
    let settled = false;
    const pruning = writer.prune(100, 2).then((batch) => ((settled = true), batch));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
    shared.exec('COMMIT');
    expect(await pruning).toEqual({ deleted: 2, ms: expect.any(Number) });
    expect(targets(shared)).toEqual(['old 3', 'new']);
    expect(await writer.prune(100, 2)).toMatchObject({ deleted: 1 });
    expect(await writer.prune(100, 2)).toMatchObject({ deleted: 0 });
    expect(targets(shared)).toEqual(['new']);
  });

  it('keeps its rows when a transaction held open on the shared connection rolls back', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared);
    shared.exec('BEGIN IMMEDIATE');
    shared
      .prepare(
        "INSERT INTO audit_events (at, actor, action, target, outcome) VALUES (0, 'x', 'y', 'doomed', 'success')",
      )
      .run();
    const writing = writer.write([row('kept')]);
    // The group waits for the lock rather than join the transaction.
    await new Promise((resolve) => setTimeout(resolve, 30));
    shared.exec('ROLLBACK');
    await writing;
    expect(targets(shared)).toEqual(['kept']);
  });

  it('gives up with SQLITE_BUSY when the lock is not let go of in time', async () => {
    openShared('NORMAL');
    writer = SqliteAuditWriter.beside(shared, { busyTimeoutMs: 50 });
    shared.exec('BEGIN IMMEDIATE');
    try {
      await expect(writer.write([row('late')])).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      shared.exec('ROLLBACK');
    }
    expect(targets(shared)).toEqual([]);
    // The writer goes on after a refused group.
    await writer.write([row('after')]);
    expect(targets(shared)).toEqual(['after']);
  });

  it('answers a full disk with the code SQLite gives, and writes again once there is room', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared, { driver: PROBED_SQLITE });
    await writer.write([row('a')]);
    const pages = await probedPragma(shared.name, 'page_count');
    await probedPragma(shared.name, `max_page_count = ${pages as number}`);
    const big = Array.from({ length: 200 }, (_, i) => ({
      ...row(`b${i}`),
      actor: 'x'.repeat(100),
    }));
    await expect(writer.write(big)).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(targets(shared)).toEqual(['a']);
    await probedPragma(shared.name, 'max_page_count = 1073741823');
    await writer.write(big);
    expect(targets(shared)).toHaveLength(201);
  });

  it('fails a group when its thread cannot open the file, and tries again for the next', async () => {
    openShared('FULL');
    // Started on first use: by then the file has gone.
    writer = SqliteAuditWriter.beside(shared);
    shared.close();
    rmSync(join(dir, 'audit.sqlite'));
    await expect(writer.write([row('a')])).rejects.toMatchObject({ code: 'SQLITE_CANTOPEN' });
    openShared('FULL');
    await writer.write([row('b')]);
    expect(targets(shared)).toEqual(['b']);
  });

  it('writes on the shared connection itself when it is in memory', async () => {
    shared = new Database(':memory:');
    shared.exec(
      'CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, ' +
        'actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, client TEXT, ' +
        'outcome TEXT NOT NULL, details TEXT)',
    );
    writer = SqliteAuditWriter.beside(shared);
    shared.exec('BEGIN');
    await writer.write([row('a')]);
    // On the shared connection itself: the group joined its open transaction.
    expect(shared.inTransaction).toBe(true);
    shared.exec('COMMIT');
    expect(targets(shared)).toEqual(['a']);
    await writer.close();
    expect(shared.open).toBe(true);
  });
});
