import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DATABASE_UNREACHABLE } from '../../common/storage-failure';

/** Time between two probes of a server that stopped answering. */
const PROBE_INTERVAL_MS = 1000;

/** How long a closing connection may take to say goodbye before its socket is cut. */
export const END_GRACE_MS = 500;

interface Cuttable {
  cut(): void;
}

/** Destroys a node-postgres client's socket (the client has no public way to do it). */
export function cutSocket(client: pg.Client): void {
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}

/**
 * What a PostgreSQL pool knows of its server. A query that times out client-side means the server
 * (or the network) stopped answering; waiting the same timeout again for each later query would
 * multiply it by the queries a request makes. So the link goes down: every other connection is
 * cut (their queries fail at once), new queries and connections are refused at once, and a probe
 * connects once a second until the server answers a `SELECT 1`.
 */
export class DatabaseLink {
  private readonly clients = new Set<Cuttable>();
  private readonly logger = new Logger('Database');
  private down = false;

  constructor(
    private readonly probeConfig: pg.ClientConfig,
    private readonly probeIntervalMs = PROBE_INTERVAL_MS,
  ) {}

  add(client: Cuttable): void {
    this.clients.add(client);
  }

  remove(client: Cuttable): void {
    this.clients.delete(client);
  }

  /** The error to fail with now, or undefined while the server answers. */
  refusal(): Error | undefined {
    if (!this.down) return undefined;
    return Object.assign(new Error('the database did not answer: waiting for it to come back'), {
      code: DATABASE_UNREACHABLE,
    });
  }

  /** A query of `from` timed out: the server is taken for gone until a probe says otherwise. */
  lost(from: Cuttable): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn('a query timed out: the database is taken for unreachable until it answers');
    for (const client of this.clients) if (client !== from) client.cut();
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    setTimeout(() => void this.probe(), this.probeIntervalMs).unref();
  }

  private async probe(): Promise<void> {
    const client = new pg.Client(this.probeConfig);
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      this.down = false;
      this.logger.log('the database answers again');
    } catch {
      this.scheduleProbe();
    } finally {
      // A goodbye the server never acknowledges would keep the socket: it is cut after a moment.
      setTimeout(() => cutSocket(client), END_GRACE_MS).unref();
      void client.end().catch(() => undefined);
    }
  }
}
