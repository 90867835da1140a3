import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { clientNetwork } from './client-network';

/**
 * At most `max` open connections per peer address: past it a new connection is reset at once,
 * so one client cannot hold the server's sockets (slow or idle connections) from everyone else.
 * Peers for which `exempt` is true (trusted reverse proxies, whose connections carry many
 * clients) are not counted. Peers count by network (clientNetwork): an IPv6 peer as its /64.
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
    const peer = socket.remoteAddress;
    if (peer === undefined || exempt(peer.replace(/^::ffff:(?=\d+\.)/, ''))) return;
    const address = clientNetwork(peer);
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
