import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type AuditRow, SqliteAuditWriter } from './sqlite-audit-writer';

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
  let writer: SqliteAuditWriter | undefined;

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
  afterEach(() => {
    writer?.close();
    writer = undefined;
    if (shared.open) shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the WAL file after the commit and before the write settles, when the shared connection syncs every commit', async () => {
    openShared('FULL');
    const events: string[] = [];
    writer = SqliteAuditWriter.beside(shared, async (file) => {
      events.push(`sync ${file} with ${targets(shared).join(',')} stored`);
    });
    await writer.write([row('a'), row('b')]);
    events.push('settled');
    expect(events).toEqual([`sync ${join(dir, 'audit.sqlite')}-wal with a,b stored`, 'settled']);
  });

  it('does not sync at each group when the shared connection does not (SQLITE_SYNCHRONOUS=normal)', async () => {
    openShared('NORMAL');
    const synced: string[] = [];
    writer = SqliteAuditWriter.beside(shared, async (file) => {
      synced.push(file);
    });
    await writer.write([row('a')]);
    expect(synced).toEqual([]);
    expect(targets(shared)).toEqual(['a']);
  });

  it('really syncs with the default: the write settles and its rows are stored', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared);
    await writer.write([row('a')]);
    expect(targets(shared)).toEqual(['a']);
  });

  it('keeps its rows when a transaction held open on the shared connection rolls back', async () => {
    openShared('FULL');
    writer = SqliteAuditWriter.beside(shared, async () => {});
    shared.exec('BEGIN IMMEDIATE');
    shared
      .prepare(
        "INSERT INTO audit_events (at, actor, action, target, outcome) VALUES (0, 'x', 'y', 'doomed', 'success')",
      )
      .run();
    const writing = writer.write([row('kept')]);
    // The group waits for the lock (without blocking the event loop) rather than join the transaction.
    await new Promise((resolve) => setTimeout(resolve, 30));
    shared.exec('ROLLBACK');
    await writing;
    expect(targets(shared)).toEqual(['kept']);
  });

  it('gives up with SQLITE_BUSY when the lock is not let go of in time', async () => {
    openShared('NORMAL');
    writer = SqliteAuditWriter.beside(shared);
    shared.exec('BEGIN IMMEDIATE');
    const now = Date.now;
    const started = now();
    // Time runs fast for the writer: its 5 s of patience pass in a few sleeps.
    Date.now = () => started + (now() - started) * 1000;
    try {
      await expect(writer.write([row('late')])).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      Date.now = now;
      shared.exec('ROLLBACK');
    }
    expect(targets(shared)).toEqual([]);
  });

  it('writes on the shared connection itself when it is in memory', async () => {
    shared = new Database(':memory:');
    shared.exec(
      'CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, ' +
        'actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, client TEXT, ' +
        'outcome TEXT NOT NULL, details TEXT)',
    );
    writer = SqliteAuditWriter.beside(shared);
    await writer.write([row('a')]);
    expect(targets(shared)).toEqual(['a']);
    writer.close();
    expect(shared.open).toBe(true);
  });
});
