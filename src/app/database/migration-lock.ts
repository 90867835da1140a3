import pg from 'pg';
import type { DataSource } from 'typeorm';

/** The advisory lock every instance takes around its migrations (an arbitrary constant of this service). */
export const MIGRATION_LOCK_KEY = 7_354_112_909;

/**
 * Runs the pending migrations while holding a PostgreSQL advisory lock, so that instances started
 * together on one database migrate one after the other instead of racing on the same DDL. The lock
 * lives on a connection of its own, without the pool's query timeouts, since waiting for another
 * instance's migrations is expected; ending that connection releases it, even after a crash.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  url: string,
  connectTimeoutMs: number,
): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: 'datafor-token-service migrations',
  });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations();
  } finally {
    await client.end();
  }
}
