import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * At most `max` open connections per peer address: past it a new connection is reset at once,
 * so one client cannot hold the server's sockets (slow or idle connections) from everyone else.
 * Peers for which `exempt` is true (trusted reverse proxies, whose connections carry many
 * clients) are not counted. IPv4-mapped IPv6 peers count as their IPv4 address.
 */
export function limitConnectionsPerAddress(
  server: Server,
  max: number,
  exempt: (address: string) => boolean,
): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  // Before the HTTP server's own listener: a refused socket never reaches the request parser.
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, '');
    if (address === undefined || exempt(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.resetAndDestroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
