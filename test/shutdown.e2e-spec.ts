/**
 * Shutdown of the real process (`node dist/main.js`) when whoever read its standard output is gone
 * (a log shipper restarting, `| tee` dying): its log lines then fail with EPIPE, and SIGTERM must
 * still end the process within SHUTDOWN_TIMEOUT. Repeated, since the hang depended on whether a
 * buffered line was waiting when the process exited; some rounds with request lines pending.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_API } from './support/api-paths';
import { createPostgresDatabase, POSTGRES_URL } from './support/database';
import {
  alive,
  type ServiceProcess,
  sleep,
  startServiceProcess,
  within,
} from './support/service-process';

const ADMIN = { username: 'admin', password: 'shutdown-admin-password-1' };
const SHUTDOWN_TIMEOUT_S = 3;
/** Slack for the process to be reaped once its deadline has passed. */
const EXIT_SLACK_MS = 1_500;
const ROUNDS = 4;

/** Waits until the service has written its start-up lines and its log buffer is empty. */
async function quiet(service: ServiceProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = -1;
  while (Date.now() < deadline) {
    const now = service.output.join('');
    // The buffer is written at least once a second: no new line for 1.5 s means it is empty.
    if (now.includes('listening on') && now.length === seen) return;
    seen = now.length;
    await sleep(1_500);
  }
  throw new Error(`the service never went quiet:\n${service.output.join('')}`);
}

describe('SIGTERM after the reader of standard output has gone', () => {
  let dataDir: string;
  let postgres: { url: string; drop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datafor-shutdown-'));
    postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
  });
  afterAll(async () => {
    await postgres?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (let round = 1; round <= ROUNDS; round++) {
    const pending = round % 2 === 0;
    it(`exits within SHUTDOWN_TIMEOUT (round ${round}${pending ? ', request lines pending' : ''})`, async () => {
      const service = await startServiceProcess({
        dataDir,
        databaseUrl: postgres?.url,
        admin: ADMIN,
        // info: every request writes a line, gathered in the log buffer until it is written.
        env: { LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S) },
      });
      try {
        await quiet(service);
        // The reading end of the pipe closes: the next write to it fails with EPIPE. Nothing is
        // buffered at that moment, so the first write to meet the closed pipe is the exit's own.
        service.child.stdout!.destroy();
        if (pending) {
          // Answered 401, each with a request line that waits in the log buffer (under 4 KiB).
          await Promise.all(
            Array.from({ length: 5 }, () =>
              fetch(`${service.origin}${TOKEN_API}/list`).then((response) => response.text()),
            ),
          );
        }
        const sent = Date.now();
        service.child.kill('SIGTERM');
        const exit = (await within(service.exited, SHUTDOWN_TIMEOUT_S * 1000 + EXIT_SLACK_MS))
          ? await service.exited
          : `still running ${Date.now() - sent} ms after SIGTERM`;
        expect(exit).toEqual({ code: 0, signal: null });
      } finally {
        if (alive(service.child)) {
          service.child.kill('SIGKILL');
          await service.exited;
        }
      }
    }, 30_000);
  }
});
