import { isIPv4, isIPv6 } from 'node:net';

/** An IPv6 address as its eight 16-bit groups, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return undefined;
  // A dotted IPv4 tail (::ffff:1.2.3.4, ::1.2.3.4) stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(bare);
  const hex = dotted
    ? bare.slice(0, dotted.index) +
      [
        ((+dotted[1] << 8) | +dotted[2]).toString(16),
        ((+dotted[3] << 8) | +dotted[4]).toString(16),
      ].join(':')
    : bare;
  const [head, tail] = hex.split('::');
  const parse = (part?: string) =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const front = parse(head);
  const back = parse(tail);
  const zeros = tail === undefined ? [] : Array<number>(8 - front.length - back.length).fill(0);
  return [...front, ...zeros, ...back];
}

/**
 * What a client address counts as in per-client limits (sign-in budgets, password-check turns,
 * rate limits, open connections): an IPv4 address itself, an IPv4-mapped IPv6 address as its
 * IPv4, and any other IPv6 address as its /64, the block a single subscriber or host is given and
 * within which a client can take a new address for every request.
 */
export function clientNetwork(address: string): string {
  if (isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const [a, b, c, d, e, f, g, h] = groups;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff)
    return [g >> 8, g & 255, h >> 8, h & 255].join('.');
  return `${[a, b, c, d].map((group) => group.toString(16)).join(':')}::/64`;
}
