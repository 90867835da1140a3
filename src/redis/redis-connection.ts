import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { type AppSettings, settingsConfig } from '../config/settings.config';

const CONNECT_TIMEOUT_MS = 5000;

/**
 * The Redis every instance shares, when REDIS_URL is set: rate limits, sign-in failure counts and
 * change announcements live there. Without it those stay in this process (SQLite's single-process
 * default). The URL may hold a password: it never appears in a log line or an error.
 */
@Injectable()
export class RedisConnection
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(RedisConnection.name);
  /** The command connection; undefined without REDIS_URL. */
  readonly client?: Redis;
  readonly prefix: string;

  constructor(@Inject(settingsConfig.KEY) private readonly settings: AppSettings) {
    this.prefix = settings.redisPrefix;
    if (settings.redisUrl) {
      this.client = new Redis(settings.redisUrl, {
        lazyConnect: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 2,
        // A Redis that stops answering without closing the socket must not hold sign-ins or writes.
        commandTimeout: CONNECT_TIMEOUT_MS,
        keepAlive: 10_000,
      });
      // ioredis reconnects by itself; without a listener an outage would be an uncaught error event.
      this.client.on('error', () => undefined);
    }
  }

  /** A connection of its own (a subscriber cannot send commands), named for CLIENT LIST. */
  duplicate(name: string): Redis {
    if (!this.client) throw new Error('REDIS_URL is not set');
    const connection = this.client.duplicate({ connectionName: `${this.prefix}${name}` });
    connection.on('error', () => undefined);
    return connection;
  }

  /** A Redis that does not answer stops the start, naming the variable, never its value. */
  async onModuleInit(): Promise<void> {
    if (!this.client) return;
    try {
      await this.client.connect();
      await this.client.ping();
    } catch {
      this.client.disconnect();
      throw new Error(`Redis at REDIS_URL does not answer within ${CONNECT_TIMEOUT_MS} ms`);
    }
  }

  onApplicationBootstrap(): void {
    if (!this.client && this.settings.databaseUrl)
      this.logger.warn(
        'REDIS_URL is not set: rate limits and sign-in failure counts are per instance; ' +
          'set it when several instances share this database',
      );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit().catch(() => undefined);
  }
}
