import type {} from '@fastify/cookie';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, put in place by the authentication guard (or the host app's). */
    user?: unknown;
  }
}
