import type { IncomingHttpHeaders } from 'node:http';

/** What the module reads from a request: the same on Fastify and on Express. */
export interface HttpRequest {
  headers: IncomingHttpHeaders;
  query?: unknown;
  body?: unknown;
  ip?: string;
  /** The authenticated caller, put in place by the host's authentication (or the token guard). */
  user?: unknown;
}
