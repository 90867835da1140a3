import { isIP } from 'node:net';

/** Fastify's `trustProxy` as this service allows it: off, a hop count, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

export const MAX_PROXY_HOPS = 100;

/** Named ranges that Fastify's proxy-addr expands, and what they stand for. */
const RANGE_NAMES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** One 128-bit space: IPv4 as proxy-addr matches it, inside ::ffff:0:0/96 (IPv4-mapped). */
type Range = [bigint, bigint];
const ALL = (1n << 128n) - 1n;
const MAPPED: Range = [0xffffn << 32n, (0xffffn << 32n) | 0xffffffffn];

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
  if (!entries.every(isProxyAddress)) return undefined;
  return trustsEveryone(entries) ? undefined : entries;
}

/**
 * Whether a TCP peer is one of the trusted proxies. With a hop count every peer is taken for one
 * (every connection passes through a proxy); with a list, the addresses it covers.
 */
export function trustedPeer(trustProxy: TrustProxy): (address: string) => boolean {
  if (trustProxy === false) return () => false;
  if (typeof trustProxy === 'number') return () => true;
  const ranges = trustProxy.flatMap((entry) => RANGE_NAMES[entry] ?? [entry]).map(rangeOf);
  return (address) => {
    if (isIP(address) === 0) return false;
    const [value] = rangeOf(address);
    return ranges.some(([start, end]) => value >= start && value <= end);
  };
}

/**
 * Whether the entries together cover all of IPv4 or all of IPv6 (`::ffff:0.0.0.0/96`,
 * `0.0.0.0/1,128.0.0.0/1`...): trusting them is trusting every client, like `true`.
 */
function trustsEveryone(entries: string[]): boolean {
  const ranges = entries
    .flatMap((entry) => RANGE_NAMES[entry] ?? [entry])
    .map(rangeOf)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const covers = ([from, to]: Range) => {
    let next = from;
    for (const [start, end] of ranges) {
      if (start > next) break;
      if (end >= next) next = end + 1n;
      if (next > to) return true;
    }
    return false;
  };
  return covers(MAPPED) || (covers([0n, MAPPED[0] - 1n]) && covers([MAPPED[1] + 1n, ALL]));
}

/** The addresses an entry (address or CIDR) stands for, in the one 128-bit space. */
function rangeOf(entry: string): Range {
  const [address, bits] = entry.split('/');
  const v4 = isIP(address) === 4;
  const value = v4 ? MAPPED[0] | ipv4Value(address) : ipv6Value(address);
  const hostBits = BigInt((v4 ? 32 : 128) - (bits === undefined ? (v4 ? 32 : 128) : Number(bits)));
  const start = (value >> hostBits) << hostBits;
  return [start, start | ((1n << hostBits) - 1n)];
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  const text = dotted
    ? address.replace(dotted[1], () => {
        const v4 = ipv4Value(dotted[1]);
        return `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
      })
    : address;
  const [head, tail] = text.split('::');
  const groups = (part?: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all =
    tail === undefined
      ? groups(head)
      : [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)];
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address or CIDR proxy-addr compiles; a /0 range (everyone) is refused like `true`. */
function isProxyAddress(entry: string): boolean {
  if (entry in RANGE_NAMES) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || address.includes('%') || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128);
}
