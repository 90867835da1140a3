/**
 * Slow and idle clients against the real process (`node dist/main.js`), with raw sockets: headers
 * that never finish, a body sent a byte at a time, a connection that sends nothing, a keep-alive
 * left idle, and one address opening more connections than it may. Limits are short here (the
 * defaults are 10 s, 30 s, 72 s and 100 connections).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import { alive, type ServiceProcess, sleep, startServiceProcess } from './support/service-process';

const HEADERS_S = 2;
const REQUEST_S = 4;
const KEEPALIVE_S = 2;
const MAX_PER_ADDRESS = 5;
/** Node checks the timeouts once a second; slack for that and a busy machine. */
const SLACK_MS = 2_000;

interface Watched {
  socket: Socket;
  /** Everything the server wrote. */
  received: () => string;
  /** Milliseconds from connecting to the server closing the connection. */
  closed: Promise<number>;
  connected: Promise<void>;
}

/** A raw connection to `port`, from `localAddress` (another loopback address keeps counts apart). */
function open(port: number, localAddress = '127.0.0.1'): Watched {
  const started = Date.now();
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((done) =>
    socket.once('close', () => done(Date.now() - started)),
  );
  const connected = new Promise<void>((done) => socket.once('connect', () => done()));
  return { socket, received: () => text, closed, connected };
}

/** Writes `chunks` one every `everyMs` until the socket closes. */
function trickle(watched: Watched, chunks: string[], everyMs: number): void {
  let next = 0;
  const timer = setInterval(() => {
    if (watched.socket.destroyed || next >= chunks.length) return clearInterval(timer);
    watched.socket.write(chunks[next++]);
  }, everyMs);
  watched.socket.once('close', () => clearInterval(timer));
}

/** How long the connection stayed open, or 'still open' past `ms`. */
async function closedWithin(watched: Watched, ms: number): Promise<number | 'still open'> {
  const result = await Promise.race([watched.closed, sleep(ms).then(() => 'still open' as const)]);
  if (result === 'still open') watched.socket.destroy();
  return result;
}

describe('slow and idle clients (raw sockets, real process)', () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  let service: ServiceProcess;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-slow-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
    service = await startServiceProcess({
      dataDir,
      databaseUrl: postgres?.url,
      admin: { username: 'admin', password: 'slow-clients-admin-1' },
      env: {
        HTTP_HEADERS_TIMEOUT: String(HEADERS_S),
        HTTP_REQUEST_TIMEOUT: String(REQUEST_S),
        HTTP_KEEPALIVE_TIMEOUT: String(KEEPALIVE_S),
        HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(MAX_PER_ADDRESS),
      },
    });
    port = Number(new URL(service.origin).port);
  }, 40_000);

  afterAll(async () => {
    if (service && alive(service.child)) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await postgres?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('cuts headers that do not finish within HTTP_HEADERS_TIMEOUT (408)', async () => {
    const slow = open(port);
    await slow.connected;
    slow.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
    trickle(
      slow,
      Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: a\r\n`),
      500,
    );
    const stayed = await closedWithin(slow, HEADERS_S * 1000 + SLACK_MS);
    expect({ cut: typeof stayed === 'number' }).toEqual({ cut: true });
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 20_000);

  it('cuts a body sent a byte at a time once HTTP_REQUEST_TIMEOUT has passed', async () => {
    const slow = open(port);
    await slow.connected;
    slow.socket.write(
      'POST /plugin/datafor/api/extension/auth/login HTTP/1.1\r\nHost: x\r\n' +
        'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n',
    );
    trickle(
      slow,
      Array.from({ length: 200 }, () => ' '),
      500,
    );
    const stayed = await closedWithin(slow, REQUEST_S * 1000 + SLACK_MS);
    expect({ cut: typeof stayed === 'number' }).toEqual({ cut: true });
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 20_000);

  it('closes a connection that sends nothing within HTTP_HEADERS_TIMEOUT', async () => {
    const idle = open(port);
    await idle.connected;
    const stayed = await closedWithin(idle, HEADERS_S * 1000 + SLACK_MS);
    expect({ cut: typeof stayed === 'number' }).toEqual({ cut: true });
  }, 20_000);

  it('closes an idle keep-alive connection after HTTP_KEEPALIVE_TIMEOUT', async () => {
    const kept = open(port);
    await kept.connected;
    kept.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    for (let waited = 0; !kept.received().includes('\r\n\r\n') && waited < 5_000; waited += 20)
      await sleep(20);
    expect(kept.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(kept.received()).not.toMatch(/connection: close/i);
    const answeredAt = Date.now();
    const stayed = await closedWithin(kept, (KEEPALIVE_S + HEADERS_S) * 1000 + SLACK_MS);
    expect({ cut: typeof stayed === 'number' }).toEqual({ cut: true });
    expect(Date.now() - answeredAt).toBeLessThanOrEqual(KEEPALIVE_S * 1000 + SLACK_MS);
  }, 20_000);

  it('refuses connections past HTTP_MAX_CONNECTIONS_PER_ADDRESS from one address, others still served', async () => {
    // From 127.0.0.2: its own count, apart from the suite's other connections.
    const held = Array.from({ length: MAX_PER_ADDRESS }, () => open(port, '127.0.0.2'));
    await Promise.all(held.map((watched) => watched.connected));
    await sleep(200);
    const extra = open(port, '127.0.0.2');
    extra.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await closedWithin(extra, 1_000);
    expect({ refused: typeof refused === 'number', answered: extra.received() }).toEqual({
      refused: true,
      answered: '',
    });
    // The connections it holds still work, and so does everyone else.
    held[0].socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let waited = 0; !held[0].received().includes('\r\n\r\n') && waited < 3_000; waited += 20)
      await sleep(20);
    expect(held[0].received()).toMatch(/^HTTP\/1\.1 200 /);
    expect((await fetch(`${service.origin}/health/live`)).status).toBe(200);
    // Once one closes, the address may connect again.
    held[1].socket.destroy();
    await held[1].closed;
    await sleep(200);
    const again = open(port, '127.0.0.2');
    again.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closedWithin(again, 3_000);
    expect(again.received()).toMatch(/^HTTP\/1\.1 200 /);
    for (const watched of held) watched.socket.destroy();
  }, 20_000);
});
