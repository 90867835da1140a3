import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisConnection } from '../redis/redis-connection';
import {
  type Change,
  type ChangeBus,
  type ChangeListener,
  parseChange,
  serializeChange,
} from '../../changes/change-bus';
import { ChangeListeners } from './change-listeners';

/** The subscriber's connection name (after REDIS_PREFIX), as CLIENT LIST shows it. */
export const CHANGES_CONNECTION_NAME = 'changes';

/**
 * Changes announced with Redis PUBLISH on `<REDIS_PREFIX>changes`, heard on a subscriber
 * connection of its own. ioredis reconnects (with a growing wait) and subscribes again by itself;
 * when the subscriber drops, and again once it is back, every listener drops everything.
 */
export class RedisChangeBus implements ChangeBus, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RedisChangeBus.name);
  private readonly listeners = new ChangeListeners();
  private readonly channel: string;
  private subscriber?: Redis;
  private state: 'starting' | 'listening' | 'lost' | 'closed' = 'starting';

  constructor(private readonly redis: RedisConnection) {
    this.channel = `${redis.prefix}changes`;
  }

  /** After every module's init (a start that fails there leaves no connection behind), before serving. */
  async onApplicationBootstrap(): Promise<void> {
    const subscriber = this.redis.duplicate(CHANGES_CONNECTION_NAME);
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const change = parseChange(message);
      if (change) this.listeners.emit(change);
    });
    subscriber.on('close', () => {
      if (this.state !== 'listening') return;
      this.state = 'lost';
      this.logger.warn('lost the connection that hears changes: caches dropped, listening again');
      this.listeners.emit({ kind: 'reset' });
    });
    // ioredis subscribes again on its own once it is back.
    subscriber.on('ready', () => {
      if (this.state !== 'lost') return;
      this.state = 'listening';
      this.listeners.emit({ kind: 'reset' });
      this.logger.log('listening for changes again');
    });
    await subscriber.subscribe(this.channel);
    this.state = 'listening';
  }

  async onApplicationShutdown(): Promise<void> {
    this.state = 'closed';
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** Best effort, never waiting: the change is committed whether or not the others hear of it. */
  async publish(change: Exclude<Change, { kind: 'reset' }>): Promise<void> {
    // During an outage (already logged once) other instances see changes when their caches expire.
    if (!this.redis.available) return;
    try {
      await this.redis.client!.publish(this.channel, serializeChange(change));
    } catch (error) {
      this.logger.warn(
        `could not announce a change to the other instances: ${(error as Error).message}`,
      );
    }
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }
}
