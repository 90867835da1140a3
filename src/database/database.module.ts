import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from './schema';
import { recoverTransactionState } from './transaction-recovery';

export const SQLITE_FILE = 'datafor-token.sqlite';

/** PostgreSQL when DATABASE_URL says so, else the embedded SQLite file in DATA_DIR. Migrations run at start. */
export function databaseOptions(settings: AppSettings): TypeOrmModuleOptions {
  const common = {
    entities: TOKEN_SERVICE_ENTITIES,
    migrations: TOKEN_SERVICE_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (settings.databaseUrl) {
    return { ...common, type: 'postgres', url: settings.databaseUrl, extra: { max: 10 } };
  }
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  return {
    ...common,
    type: 'better-sqlite3',
    database: join(settings.dataDir, SQLITE_FILE),
    // WAL keeps readers off the writer's back. FULL syncs the WAL at every commit: NORMAL loses
    // nothing when the process dies, but may lose the last commits when the machine does.
    prepareDatabase: (db: Database) => {
      chmodSync(db.name, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
    },
  };
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [settingsConfig.KEY],
      useFactory: (settings: AppSettings) => databaseOptions(settings),
      dataSourceFactory: async (options?: DataSourceOptions) =>
        recoverTransactionState(new DataSource(options!)),
    }),
  ],
})
export class DatabaseModule {}
