import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { errorFields } from './logger-options';

const STACK = /^.+\n\s+at .+/s;

type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const LEVELS: Record<LogLevel, PinoLevel> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/**
 * Nest's own log lines, and every `new Logger(context)` of the service, written by the pino logger
 * that Fastify logs requests with: same destination, same redaction.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest's calling convention: a trailing string is the context; for errors, a stack may precede it. */
  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const logger = this.pino;
    const method = LEVELS[level];
    if (!logger.isLevelEnabled(method)) return;
    const last = params.at(-1);
    const context = typeof last === 'string' && !STACK.test(last) ? last : undefined;
    const stack = params.find((param) => typeof param === 'string' && STACK.test(param));
    const fields: Record<string, unknown> = context ? { context } : {};
    if (stack) fields.err = { stack };
    if (message instanceof Error) {
      logger[method]({ ...fields, err: errorFields(message) }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[method]({ ...fields, ...message });
    } else {
      logger[method](fields, String(message));
    }
  }
}
