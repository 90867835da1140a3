import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';

/** The driver to hand an audit writer (AuditWriterOptions.driver) whose connection a test reaches. */
export const PROBED_SQLITE = join(process.cwd(), 'test/support/probed-sqlite-driver.cjs');

const PROBE_TIMEOUT_MS = 5000;

/**
 * Runs `pragma` on the connection that PROBED_SQLITE opened to `file` (in another thread) and
 * answers its result. The connection must be open: a writer opens it on its first write.
 */
export function probedPragma(file: string, pragma: string): Promise<unknown> {
  const channel = new BroadcastChannel(`probed-sqlite:${file}`);
  const id = randomUUID();
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no probed connection to ${file} answered ${pragma}`)),
      PROBE_TIMEOUT_MS,
    );
    channel.onmessage = (event) => {
      const reply = (event as MessageEvent).data as {
        id: string;
        result?: unknown;
        error?: string;
      };
      if (reply.id !== id) return;
      clearTimeout(timer);
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply.result);
    };
    channel.postMessage({ id, pragma });
  }).finally(() => channel.close());
}
