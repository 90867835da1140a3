import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { DatabaseLink } from './database-link';
import { runMigrationsLocked } from './migration-lock';
import { PostgresClient } from './postgres-client';
import { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from '../../schema';
import { SessionEntity } from '../auth/entities/session.entity';
import { Sessions1765500000000 } from './migrations/1765500000000-sessions';
import { syncCommitsOffLoop } from '../../database/sqlite-wal-sync';
import { recoverTransactionState } from '../../database/transaction-recovery';

export const SQLITE_FILE = 'datafor-token.sqlite';

/**
 * The module's entities and migrations, and the sessions of the service's own login (AuthModule),
 * which a host never has: their table comes from a migration of the service's own.
 */
export const STANDALONE_ENTITIES = [...TOKEN_SERVICE_ENTITIES, SessionEntity];
export const STANDALONE_MIGRATIONS = [...TOKEN_SERVICE_MIGRATIONS, Sessions1765500000000];

/**
 * node-postgres pool options: without them a dead network (sockets open, nothing answering) holds
 * every request and every pooled connection forever. The server-side timeouts end work nobody
 * waits for; the client-side `query_timeout` is what ends the wait when the network is gone, and
 * the link (see DatabaseLink) makes that wait once per outage rather than once per query.
 */
export function poolOptions(settings: AppSettings) {
  const queryTimeoutMs = settings.dbQueryTimeout * 1000;
  const connectTimeoutMs = settings.dbConnectTimeout * 1000;
  return {
    Client: PostgresClient,
    // pg-pool hands its options to each client it creates: this is how they share the link.
    link: new DatabaseLink({
      connectionString: settings.databaseUrl,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: queryTimeoutMs,
    }),
    max: settings.dbPoolMax,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    statement_timeout: queryTimeoutMs,
    // A transaction left open by a client that vanished would hold its row locks until then.
    idle_in_transaction_session_timeout: queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: settings.dbKeepaliveIdle * 1000,
  };
}

/**
 * PostgreSQL when DATABASE_URL says so, else the embedded SQLite file in DATA_DIR. Migrations run
 * at start: on PostgreSQL under an advisory lock (see openDataSource), since instances share it.
 */
export function databaseOptions(settings: AppSettings): TypeOrmModuleOptions {
  const common = {
    entities: STANDALONE_ENTITIES,
    migrations: STANDALONE_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (settings.databaseUrl) {
    return {
      ...common,
      type: 'postgres',
      url: settings.databaseUrl,
      extra: poolOptions(settings),
      migrationsRun: false,
    };
  }
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  return {
    ...common,
    type: 'better-sqlite3',
    database: join(settings.dataDir, SQLITE_FILE),
    // WAL keeps readers off the writer's back. FULL (the default) syncs the WAL after every commit,
    // in the thread pool, before the write is answered (SqliteWalSync): NORMAL loses nothing when
    // the process dies, but may lose the last commits when the machine does.
    prepareDatabase: (db: Database) => {
      chmodSync(db.name, 0o600);
      db.pragma('journal_mode = WAL');
      if (settings.sqliteSynchronous === 'full') syncCommitsOffLoop(db);
      else db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  };
}

/**
 * Connects, with TypeORM's transaction state kept in step with the connection's (see
 * transaction-recovery.ts), then on PostgreSQL runs the migrations that another instance is not
 * already running.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await recoverTransactionState(new DataSource(options)).initialize();
  if (options.type === 'postgres' && options.url) {
    try {
      const extra = options.extra as { connectionTimeoutMillis?: number } | undefined;
      await runMigrationsLocked(dataSource, options.url, extra?.connectionTimeoutMillis ?? 10_000);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
  }
  return dataSource;
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [settingsConfig.KEY],
      useFactory: (settings: AppSettings) => databaseOptions(settings),
      dataSourceFactory: async (options?: DataSourceOptions) => openDataSource(options!),
    }),
  ],
})
export class DatabaseModule {}
