import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteWalSync } from './sqlite-wal-sync';

describe('SqliteWalSync', () => {
  let dir: string;
  let db: Database.Database;
  /** Syncs that end when the test says so, in the order they began. */
  let syncs: { fd: number; end: (error?: Error) => void }[];
  let walSync: SqliteWalSync;
  const started = () => syncs.length;
  const settle = async () => new Promise((done) => setImmediate(done));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-sync-'));
    db = new Database(join(dir, 'test.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT)');
    syncs = [];
    walSync = new SqliteWalSync(
      db,
      (fd) =>
        new Promise((done, fail) =>
          syncs.push({ fd, end: (error) => (error ? fail(error) : done()) }),
        ),
    );
  });
  afterEach(() => {
    walSync.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the WAL file, and resolves once the sync is done', async () => {
    let flushed = false;
    const flush = walSync.flush().then(() => (flushed = true));
    expect(started()).toBe(1);
    await settle();
    expect(flushed).toBe(false);
    syncs[0].end();
    await flush;
    expect(flushed).toBe(true);
  });

  it('makes commits made during a sync wait for the next one, which serves them all', async () => {
    const first = walSync.flush();
    // Committed while the first sync runs: it may have begun before these writes reached the WAL.
    let later = 0;
    const during = Array.from({ length: 20 }, () => walSync.flush().then(() => later++));
    expect(started()).toBe(1);
    syncs[0].end();
    await first;
    await settle();
    expect(later).toBe(0);
    expect(started()).toBe(2);
    syncs[1].end();
    await Promise.all(during);
    expect(later).toBe(20);
    expect(started()).toBe(2);
    // Nothing running: the next commit starts a sync of its own, on the same descriptor.
    void walSync.flush();
    expect(started()).toBe(3);
    expect(syncs[2].fd).toBe(syncs[0].fd);
    syncs[2].end();
  });

  it('fails the commits that waited for a sync that failed, and syncs again for the next', async () => {
    const failed = walSync.flush();
    syncs[0].end(Object.assign(new Error('I/O error'), { code: 'EIO' }));
    await expect(failed).rejects.toMatchObject({ code: 'EIO' });
    const next = walSync.flush();
    expect(started()).toBe(2);
    syncs[1].end();
    await expect(next).resolves.toBeUndefined();
  });
});
