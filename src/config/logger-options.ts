import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';

/** Field names whose values never reach a log line, at any depth up to four levels. */
export const SECRET_FIELDS = [
  'secret',
  'privateKey',
  'password',
  'initpwd',
  'token',
  'secretsKey',
  'adminPassword',
  'passwordHash',
];
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
];

/** The path without its query: a token may travel in `?token=`. */
function pathOf(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0].replace(JWT_LIKE, '[token redacted]');
  return url?.includes('?') ? `${path}?[query redacted]` : path;
}

export function loggerOptions(level: string): Options {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given)
        ? given
        : randomUUID();
    },
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: pathOf(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: ServerResponse & { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    hooks: {
      // A JWT pasted into a message string is cut down to its header.
      logMethod(args, method) {
        const scrubbed = args.map((arg) =>
          typeof arg === 'string' ? arg.replace(JWT_LIKE, '[token redacted]') : arg,
        );
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
  };
}
