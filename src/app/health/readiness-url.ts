import { isIP } from 'node:net';
import type { Settings } from '../../config/settings';

/** The addresses that mean every interface, and the loopback address each is reached on. */
const WILDCARDS: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1', '[::]': '::1' };

/**
 * Where a probe beside the service reaches `GET /health/ready` (outside BASE_PATH): HOST and
 * PORT, as the service listens on them; a HOST that means every interface is reached on loopback.
 */
export function readinessUrl({ host, port }: Pick<Settings, 'host' | 'port'>): string {
  const address = WILDCARDS[host] ?? host;
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}/health/ready`;
}
