import pg from 'pg';
import { cutSocket, type DatabaseLink, END_GRACE_MS } from './database-link';

/** node-postgres's error when its client-side `query_timeout` fires. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

type AnyQuery = (...args: unknown[]) => unknown;
type ClientConfig = pg.ClientConfig & { link?: DatabaseLink };

function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * The pool's client. When node-postgres gives up on a query (`query_timeout`), the query is still
 * on the wire, so any later query would queue behind an answer that may never come: the client
 * ends itself, which closes its socket and makes pg-pool drop it on release (TypeORM releases it
 * without the error) instead of lending it to the next request. The timeout also tells the pool's
 * DatabaseLink that the server stopped answering: every other connection is cut and new ones are
 * refused at once until a probe gets through, so no request waits out one timeout per query.
 */
export class PostgresClient extends pg.Client {
  private readonly link?: DatabaseLink;

  constructor(config?: string | ClientConfig) {
    super(config);
    this.link = typeof config === 'object' ? config.link : undefined;
    this.once('connect', () => this.link?.add(this));
    this.once('end', () => this.link?.remove(this));
    // A client checked out of the pool has no listener of pg-pool's: if the server ends its
    // session between queries (failover, pg_terminate_backend, DROP DATABASE ... FORCE), the
    // 'error' event would be unhandled and end the process. Its next query fails instead (503),
    // and the pool drops it on release.
    this.on('error', () => undefined);
    const query = this.query.bind(this) as AnyQuery;
    const endOnTimeout = (error: unknown) => {
      if (!isQueryTimeout(error)) return;
      void this.end().catch(() => undefined);
      this.link?.lost(this);
    };
    const guarded: AnyQuery = (...args) => {
      const last = args.length - 1;
      const callback = args[last];
      const refusal = this.link?.refusal();
      if (typeof callback === 'function') {
        if (refusal) {
          process.nextTick(() => (callback as AnyQuery)(refusal));
          return undefined;
        }
        args[last] = (error: unknown, ...rest: unknown[]) => {
          endOnTimeout(error);
          return (callback as AnyQuery)(error, ...rest);
        };
        return query(...args);
      }
      if (refusal) return Promise.reject(refusal);
      const result = query(...args);
      if (result instanceof Promise) result.catch(endOnTimeout);
      return result;
    };
    this.query = guarded as pg.Client['query'];

    // Refused at once while the link is down: connecting would only wait out the timeout.
    const connect = this.connect.bind(this) as AnyQuery;
    this.connect = ((callback?: (error: Error) => void) => {
      const refusal = this.link?.refusal();
      if (!refusal) return connect(callback);
      if (!callback) return Promise.reject(refusal);
      process.nextTick(() => callback(refusal));
      return undefined;
    }) as pg.Client['connect'];

    // A goodbye to a server that does not answer would wait forever (the socket half-closed, never
    // acknowledged), holding up the pool's end and so the shutdown: the socket is cut after a moment.
    const end = this.end.bind(this) as AnyQuery;
    this.end = ((callback?: (error: Error) => void) => {
      setTimeout(() => cutSocket(this), END_GRACE_MS).unref();
      return end(callback);
    }) as pg.Client['end'];
  }

  /** Cuts the socket: a query in flight fails at once and the pool drops the client. */
  cut(): void {
    cutSocket(this);
  }
}
