import type { Database } from 'better-sqlite3';
import type { DataSource } from 'typeorm';

/**
 * The better-sqlite3 connection under a SQLite DataSource (undefined on PostgreSQL), for the few
 * hot statements a store prepares once and runs directly, past TypeORM's per-call query building.
 * TypeORM shares this one connection: what runs here joins any transaction it has open, as its
 * own queries do.
 */
export function sqliteConnectionOf(dataSource: DataSource): Database | undefined {
  if (dataSource.options.type !== 'better-sqlite3') return undefined;
  return (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
}
