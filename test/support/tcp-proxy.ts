import { connect, createServer, type Server, type Socket } from 'node:net';

interface Link {
  frozen: boolean;
}

/**
 * Resets `socket` (RST), or closes it when its own end (FIN) is under way or it is still
 * connecting. Node's `resetAndDestroy()` on a socket whose end has begun fails with EINVAL yet
 * marks its handle closing, so the handle never closes: the process then spins at exit (a Jest run
 * that never ends, at full CPU, with no child left).
 */
function reset(socket: Socket): void {
  if (socket.writableEnded || socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * A TCP proxy owned by a test, in front of PostgreSQL or Redis, that fails the ways a dependency
 * does in production:
 * - `freeze()`: every open connection stops forwarding in both directions without being closed or
 *   reset, and connections accepted while frozen are held open but never forwarded (a black hole:
 *   TCP accepted, nothing answered), so only the client's own timeouts end them;
 * - `stop()`: every connection is reset and the port refuses new ones (a stopped server);
 * - `heal()`: new connections are forwarded again (frozen ones stay frozen), and a stopped proxy
 *   listens again on the same port.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly links = new Set<Link>();
  private frozen = false;
  private port = 0;
  /** Connections accepted while frozen (never forwarded). */
  blackholed = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port (the same one again after `stop()`), and answers it. */
  listen(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((done, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => {
        const address = server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        done(this.port);
      });
    });
  }

  freeze(): void {
    this.frozen = true;
    for (const link of this.links) link.frozen = true;
  }

  /** Resets every connection and stops listening: connecting is refused until `heal()`. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) reset(socket);
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  async heal(): Promise<void> {
    this.frozen = false;
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.frozen) {
      this.blackholed++;
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    const link: Link = { frozen: false };
    this.links.add(link);
    client.on('close', () => this.links.delete(link));
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (!link.frozen) to.write(chunk);
      });
      from.on('close', () => {
        if (!link.frozen) to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  }
}
