import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  type Change,
  type ChangeBus,
  type ChangeListener,
  parseChange,
  serializeChange,
} from '../../changes/change-bus';
import { ChangeListeners } from './change-listeners';

export const CHANGES_CHANNEL = 'datafor_token_service_changes';
/** How the listening connection shows in pg_stat_activity. */
export const CHANGES_APPLICATION_NAME = 'datafor-token-service changes';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
/** A silent network (no reset, no answer) is noticed by this query, since LISTEN sends nothing. */
const HEARTBEAT_MS = 10_000;

export interface PostgresChangeBusOptions {
  url: string;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
}

/**
 * Changes announced with PostgreSQL NOTIFY (through the pool, after the commit) and heard with
 * LISTEN on a connection of its own, outside the pool. When that connection is lost, every
 * listener is told to drop everything (announcements may have been missed meanwhile), and the
 * bus listens again with a growing wait; once it listens again, everything is dropped once more.
 */
export class PostgresChangeBus implements ChangeBus, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PostgresChangeBus.name);
  private readonly listeners = new ChangeListeners();
  private client?: pg.Client;
  private retryMs = FIRST_RETRY_MS;
  private retry?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly options: PostgresChangeBusOptions,
    private readonly dataSource: DataSource,
  ) {}

  /** After every module's init (a start that fails there leaves no connection behind), before serving. */
  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    await this.client?.end().catch(() => undefined);
  }

  async publish(change: Exclude<Change, { kind: 'reset' }>): Promise<void> {
    try {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [
        CHANGES_CHANNEL,
        serializeChange(change),
      ]);
    } catch (error) {
      // The change is committed; other instances see it when their caches expire.
      this.logger.warn(
        `could not announce a change to the other instances: ${(error as Error).message}`,
      );
    }
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      query_timeout: this.options.queryTimeoutMs,
      keepAlive: true,
      application_name: CHANGES_APPLICATION_NAME,
    });
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL || !message.payload) return;
      const change = parseChange(message.payload);
      if (change) this.listeners.emit(change);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // Shut down while connecting: this connection must not outlive the app.
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.logger.warn('lost the connection that hears changes: caches dropped, listening again');
    this.listeners.emit({ kind: 'reset' });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => void this.relisten(), this.retryMs);
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
  }

  private async relisten(): Promise<void> {
    if (this.closed) return;
    try {
      await this.listen();
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.closed) return;
    this.retryMs = FIRST_RETRY_MS;
    // Whatever was cached while nobody listened may be stale.
    this.listeners.emit({ kind: 'reset' });
    this.logger.log('listening for changes again');
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await client.query('SELECT 1');
    } catch {
      this.lost(client);
    }
  }
}
