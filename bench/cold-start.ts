/**
 * Cold start and idle memory of the built service: `node dist/main.js` spawned on a fresh DATA_DIR
 * (empty SQLite file, so migrations and the bootstrap Administrator run), timed from the spawn to
 * the first 200 of GET /health/ready; then its resident set size once it has idled a while.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, MAIN, sleep } from '../test/support/service-process';
import { ADMIN } from './service';

export interface ColdStart {
  readyMs: number;
  /** Resident set size after idling, in MB; undefined where /proc is not there. */
  idleRssMb: number | undefined;
}

const IDLE_MS = 2000;
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

export async function measureColdStart(): Promise<ColdStart> {
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
    await sleep(IDLE_MS);
    return { readyMs, idleRssMb: residentMb(child.pid ?? 0) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(null)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
