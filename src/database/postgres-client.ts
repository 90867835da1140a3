import pg from 'pg';

/** node-postgres's error when its client-side `query_timeout` fires. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

type AnyQuery = (...args: unknown[]) => unknown;

function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * The pool's client. When node-postgres gives up on a query (`query_timeout`), the query is still
 * on the wire, so any later query would queue behind an answer that may never come: the client
 * ends itself, which closes its socket and makes pg-pool drop it on release (TypeORM releases it
 * without the error) instead of lending it to the next request.
 */
export class PostgresClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A client checked out of the pool has no listener of pg-pool's: if the server ends its
    // session between queries (failover, pg_terminate_backend, DROP DATABASE ... FORCE), the
    // 'error' event would be unhandled and end the process. Its next query fails instead (503),
    // and the pool drops it on release.
    this.on('error', () => undefined);
    const query = this.query.bind(this) as AnyQuery;
    const endOnTimeout = (error: unknown) => {
      if (isQueryTimeout(error)) void this.end().catch(() => undefined);
    };
    const guarded: AnyQuery = (...args) => {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, ...rest: unknown[]) => {
          endOnTimeout(error);
          return (callback as AnyQuery)(error, ...rest);
        };
        return query(...args);
      }
      const result = query(...args);
      if (result instanceof Promise) result.catch(endOnTimeout);
      return result;
    };
    this.query = guarded as pg.Client['query'];
  }
}
