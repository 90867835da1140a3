import { isIP } from 'node:net';

/** Fastify's `trustProxy` as this service allows it: off, a hop count, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

export const MAX_PROXY_HOPS = 100;

/** Named ranges that Fastify's proxy-addr expands. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Reads TRUST_PROXY: `false`/`0`, a hop count, or a comma-separated list of addresses and CIDRs.
 * Undefined when malformed, and for `true`, which would trust every X-Forwarded-For entry.
 */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const text = value.trim();
  if (/^(false|no|0)$/i.test(text)) return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops <= MAX_PROXY_HOPS ? hops : undefined;
  }
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.every(isProxyAddress) ? entries : undefined;
}

/** An address or CIDR proxy-addr compiles; a /0 range (everyone) is refused like `true`. */
function isProxyAddress(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || address.includes('%') || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128);
}
