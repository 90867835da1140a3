import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { DataSource } from 'typeorm';

/**
 * Free bytes under which the SQLite file system counts as full: a write appends a few pages to
 * the WAL, and a checkpoint copies up to a thousand back, so a little less leaves writes failing.
 */
export const MIN_FREE_BYTES = 1024 * 1024;

/**
 * Why the embedded SQLite store has no room for writes now, or undefined when it has: the file
 * system is (nearly) full, or the file has reached SQLite's page limit with no free page left.
 * PostgreSQL's disk belongs to its server and to every instance alike: not judged here.
 */
export async function outOfSpace(dataSource: DataSource): Promise<string | undefined> {
  if (dataSource.options.type !== 'better-sqlite3') return undefined;
  const db = (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  const pragma = (name: string) => db.pragma(name, { simple: true }) as number;
  if (pragma('page_count') >= pragma('max_page_count') && pragma('freelist_count') === 0)
    return 'the database has reached its page limit';
  if (db.memory) return undefined;
  const { bavail, bsize } = await statfs(dirname(db.name));
  return bavail * bsize < MIN_FREE_BYTES ? 'the disk is full' : undefined;
}
