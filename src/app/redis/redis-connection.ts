import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
} from 'rate-limiter-flexible';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { MetricsService } from '../../metrics/metrics.service';
import { FailFastRedis } from './fail-fast-redis';

const CONNECT_TIMEOUT_MS = 5000;

/**
 * The Redis every instance shares, when REDIS_URL is set: rate limits, sign-in failure counts and
 * change announcements live there. Without it those stay in this process (SQLite's single-process
 * default). While Redis does not answer, commands fail at once (FailFastRedis) and the counts fall
 * back to this process. The URL may hold a password: it never appears in a log line or an error.
 */
@Injectable()
export class RedisConnection
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(RedisConnection.name);
  /** The command connection; undefined without REDIS_URL. */
  readonly client?: FailFastRedis;
  readonly prefix: string;
  private readonly options: RedisOptions;

  constructor(
    @Inject(settingsConfig.KEY) private readonly settings: AppSettings,
    metrics: MetricsService,
  ) {
    this.prefix = settings.redisPrefix;
    this.options = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, keepAlive: 10_000 };
    if (settings.redisUrl) {
      const client = new FailFastRedis(
        settings.redisUrl,
        this.options,
        settings.redisCommandTimeout,
      );
      this.client = client;
      metrics.watchRedis(client);
    }
  }

  /** Whether commands go to Redis now (false without REDIS_URL and during an outage). */
  get available(): boolean {
    return this.client?.available ?? false;
  }

  /**
   * Counters under `<REDIS_PREFIX><name>:` shared by every instance (undefined without REDIS_URL).
   * While Redis does not answer they count in this process instead, from zero, for this instance
   * alone; what they counted there is not carried into Redis when it is back.
   */
  limiter(name: string): RateLimiterAbstract | undefined {
    if (!this.client) return undefined;
    const keyPrefix = `${this.prefix}${name}`;
    // Points and duration are unused: every call gives its own count and lifetime.
    return new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix,
      points: 1,
      duration: 1,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: 1, duration: 1 }),
    });
  }

  /**
   * A connection of its own, named for CLIENT LIST: a subscriber cannot send commands, and being off
   * the request path it keeps ioredis's patient defaults (its commands queue while it reconnects).
   */
  duplicate(name: string): Redis {
    if (!this.settings.redisUrl) throw new Error('REDIS_URL is not set');
    const connection = new Redis(this.settings.redisUrl, {
      ...this.options,
      commandTimeout: CONNECT_TIMEOUT_MS,
      connectionName: `${this.prefix}${name}`,
    });
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
      throw new Error(
        `Redis at REDIS_URL does not answer (connect within ${CONNECT_TIMEOUT_MS} ms, commands ` +
          `within REDIS_COMMAND_TIMEOUT=${this.settings.redisCommandTimeout} ms)`,
      );
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
    await this.client?.close();
  }
}
