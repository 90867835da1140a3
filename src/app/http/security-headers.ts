import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import type { SecurityHeadersTlsMode } from '../../config/settings';

// Helmet's defaults; Swagger UI needs its inline styles and scripts and the data: images of its icons.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self' 'unsafe-inline'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join(';');

const COMMON = {
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * Over plain HTTP, `upgrade-insecure-requests` would send a browser on another machine to https for
 * every asset (a blank Swagger UI), HSTS would pin a host that serves no TLS, and browsers ignore
 * Cross-Origin-Opener-Policy from such an origin with a console error.
 */
export const PLAIN_HTTP_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...COMMON,
  'content-security-policy': CONTENT_SECURITY_POLICY,
});

export const TLS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...COMMON,
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': `${CONTENT_SECURITY_POLICY};upgrade-insecure-requests`,
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
});

/** The set for one answer: TLS's when the request came over TLS (or a trusted proxy's https), or always. */
export function securityHeadersFor(
  mode: SecurityHeadersTlsMode,
  protocol: string,
): Readonly<Record<string, string>> {
  return mode === 'always' || protocol === 'https' ? TLS_HEADERS : PLAIN_HTTP_HEADERS;
}

/**
 * Sets the security headers on every answer from the two sets built above, so no request pays for
 * building a policy. `request.protocol` is https over TLS, or through a trusted proxy's
 * X-Forwarded-Proto (the adapter's trustProxy decides whom to trust). Errors Fastify answers
 * before this hook runs get them from framework-errors.ts.
 */
export function registerSecurityHeaders(
  fastify: FastifyInstance,
  mode: SecurityHeadersTlsMode,
): void {
  fastify.addHook(
    'onRequest',
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      void reply.headers(securityHeadersFor(mode, request.protocol));
      done();
    },
  );
}
