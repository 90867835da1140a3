import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { RedisConnection } from '../redis/redis-connection';
import { type ChangeBus, CHANGE_BUS } from '../../changes/change-bus';
import { InProcessChangeBus } from './in-process-change-bus';
import { PostgresChangeBus } from './postgres-change-bus';
import { RedisChangeBus } from './redis-change-bus';

/**
 * The standalone service's change bus: Redis pub/sub when REDIS_URL is set, else PostgreSQL
 * LISTEN/NOTIFY on PostgreSQL, else (SQLite, one process) in process.
 */
@Global()
@Module({
  providers: [
    {
      provide: CHANGE_BUS,
      inject: [settingsConfig.KEY, RedisConnection, DataSource],
      useFactory: (
        settings: AppSettings,
        redis: RedisConnection,
        dataSource: DataSource,
      ): ChangeBus => {
        if (redis.client) return new RedisChangeBus(redis);
        if (settings.databaseUrl)
          return new PostgresChangeBus(
            {
              url: settings.databaseUrl,
              connectTimeoutMs: settings.dbConnectTimeout * 1000,
              queryTimeoutMs: settings.dbQueryTimeout * 1000,
            },
            dataSource,
          );
        return new InProcessChangeBus();
      },
    },
  ],
  exports: [CHANGE_BUS],
})
export class ChangesModule {}
