import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type Logger as Pino, type LoggerOptions } from 'pino';
import { censorSecrets } from './log-censor';

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
/** Top-level fields that serializers reduce to what is safe to log. */
const SERIALIZED = new Set(['req', 'res']);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The path without its query: a token may travel in `?token=`. */
export function pathOf(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0];
  const shown = path.includes('eyJ') ? path.replace(JWT_LIKE, '[token redacted]') : path;
  return url?.includes('?') ? `${shown}?[query redacted]` : shown;
}

/** The caller's X-Request-Id when it is a plain short token, else a new one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** What a request line shows of the request: never its headers, body or query. */
interface LoggedRequest {
  id: string;
  method: string;
  url: string;
  ip?: string;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: {
      req: (req: LoggedRequest) => ({
        id: req.id,
        method: req.method,
        url: pathOf(req.url),
        remoteAddress: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    formatters: {
      // Before the serializers, which keep only safe fields of the request and reply.
      log: (fields) => censorSecrets(fields, SERIALIZED),
    },
    hooks: {
      // A JWT pasted into a message string is cut down to its header.
      logMethod(args, method) {
        const scrubbed = args.some((arg) => typeof arg === 'string' && arg.includes('eyJ'))
          ? args.map((arg) =>
              typeof arg === 'string' ? arg.replace(JWT_LIKE, '[token redacted]') : arg,
            )
          : args;
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
}

/** Bytes of log lines gathered before a write, and the longest a line waits for it. */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 1000;

/**
 * Where the service's lines go (standard output by default): gathered up to 4 KiB, or a second,
 * per write, since one write per line cost a busy service more than the line itself. pino writes
 * what is gathered when the process exits; a process killed outright loses at most that second.
 */
export function logDestination(dest: number | string = 1): ReturnType<typeof pino.destination> {
  const stream = pino.destination({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
    contentMode: 'buffer',
  });
  // sonic-boom's text mode appends each line to one string and measures its byte length again,
  // which copies the whole buffer at every line; in buffer mode it keeps a list. pino writes text.
  const writeBuffer = stream.write.bind(stream) as unknown as (data: Buffer) => boolean;
  stream.write = (line: string | Buffer) =>
    writeBuffer(typeof line === 'string' ? Buffer.from(line) : line);
  return stream;
}

/**
 * Writes what the logger's buffer holds, waiting at most `ms`, then turns off the synchronous
 * flush pino runs at exit: a reader that stopped reading (or a closed pipe, on older sonic-boom)
 * would hold that flush, and the process, forever. Call it just before `process.exit`.
 */
export function flushLogsBeforeExit(logger: Pino, ms: number): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    { flush?: (done: (error?: Error) => void) => void; flushSync?: () => void } | undefined;
  const flush = stream?.flush?.bind(stream);
  if (!stream || !flush) return Promise.resolve();
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      stream.flushSync = () => undefined;
      done();
    };
    const timer = setTimeout(finish, ms);
    try {
      flush(finish);
    } catch {
      finish();
    }
  });
}

/**
 * What a log line keeps of an error: its type, message and stack. Never the whole object, whose
 * own properties may carry values (a TypeORM QueryFailedError holds the query's parameters).
 */
export function errorFields(error: Error): { type: string; message: string; stack?: string } {
  return { type: error.name, message: error.message, stack: error.stack };
}
