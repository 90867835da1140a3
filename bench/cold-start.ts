/**
 * Cold start and idle memory of the built service: `node dist/main.js` spawned on a fresh DATA_DIR
 * (empty SQLite file, so migrations and the bootstrap Administrator run), timed from the spawn to
 * the first 200 of GET /health/ready; then its resident set size 2 s later, and (when asked) once
 * it has idled 30 s: V8's memory reducer gives back the young generation a busy start grew only
 * after some seconds without work (about 145 MB after start came down to about 110 MB).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, MAIN, sleep } from '../test/support/service-process';
import { ADMIN } from './credentials';

export interface ColdStart {
  readyMs: number;
  /** Resident set size 2 s after ready, in MB; undefined where /proc is not there. */
  startRssMb: number | undefined;
  /** Resident set size after 20 s without work, in MB, when asked for. */
  idleRssMb?: number;
}

const AFTER_START_MS = 2000;
const IDLE_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;

function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function measureColdStart(idle = false): Promise<ColdStart> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-bench-cold-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`the service exited before it was ready: ${stderr}`);
      if (performance.now() - started > READY_TIMEOUT_MS)
        throw new Error(`the service was not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`);
      const ready = await fetch(`${origin}/health/ready`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) break;
      await sleep(10);
    }
    const readyMs = performance.now() - started;
    await sleep(AFTER_START_MS);
    const startRssMb = residentMb(child.pid ?? 0);
    if (!idle) return { readyMs, startRssMb };
    await sleep(IDLE_MS - AFTER_START_MS);
    return { readyMs, startRssMb, idleRssMb: residentMb(child.pid ?? 0) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(null)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
