import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** The built service (`npm test` builds it first, in its pretest step). */
export const MAIN = resolve(process.cwd(), 'dist/main.js');

export interface ServiceProcess {
  child: ChildProcess;
  origin: string;
  /** The last 200 chunks the process wrote, for failure messages. */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServiceProcessOptions {
  /** DATA_DIR; unset: the service's default (./data under `cwd`). */
  dataDir?: string;
  databaseUrl?: string;
  /** The bootstrap Administrator; unset: the service makes one and writes its password file. */
  admin?: { username: string; password: string };
  /** The working directory of the process (default: this one). */
  cwd?: string;
  /** More settings; throttling is off unless a test turns it on. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Whether `promise` settles within `ms` milliseconds (the timer never outlives the wait). */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts `node dist/main.js` on a free loopback port and waits for GET /health/ready to answer 200. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
      ...(options.admin
        ? { ADMIN_USERNAME: options.admin.username, ADMIN_PASSWORD: options.admin.password }
        : {}),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '0',
      LOGIN_MAX_FAILURES: '0',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const service = { child, origin: `http://127.0.0.1:${port}`, output, exited };
  await waitReady(service, options.readyTimeoutMs ?? 30_000);
  return service;
}

async function waitReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!alive(service.child)) {
      throw new Error(
        `the service exited (${service.child.exitCode ?? service.child.signalCode}) before it was ready:\n${service.output.join('')}`,
      );
    }
    try {
      const response = await fetch(`${service.origin}/health/ready`, {
        signal: AbortSignal.timeout(1000),
      });
      if (response.status === 200) return;
      last = `status ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  service.child.kill('SIGKILL');
  throw new Error(
    `GET /health/ready did not answer 200 within ${timeoutMs} ms (${last}):\n${service.output.join('')}`,
  );
}

/** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`, then throws). */
export async function stopServiceProcess(
  service: ServiceProcess,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM',
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (alive(service.child)) service.child.kill(signal);
  if (!(await within(service.exited, timeoutMs))) {
    service.child.kill('SIGKILL');
    await service.exited;
    throw new Error(`the service did not exit within ${timeoutMs} ms of ${signal}`);
  }
  return service.exited;
}

/** A JSON answer of a started service, or the start of the text when it is not JSON. */
export interface ServiceAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

/** One request to `origin` as `authorization`, given up after `timeoutMs`. */
export async function callService(
  origin: string,
  authorization: string,
  request: { method: 'GET' | 'POST'; path: string; body?: unknown; timeoutMs: number },
): Promise<ServiceAnswer> {
  const { method, path, body, timeoutMs } = request;
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: {
      authorization,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsable: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after') };
}
