import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { createApp } from './app/app.setup';
import { flushLogsBeforeExit } from './config/logger-options';
import { type AppSettings, settingsConfig } from './config/settings.config';
import { Readiness } from './app/health/readiness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The part of SHUTDOWN_TIMEOUT kept for writing the last log lines. */
const LOG_FLUSH_MS = 250;

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const settings = app.get<AppSettings>(settingsConfig.KEY);
  const logger = new Logger('Main');
  const readiness = app.get(Readiness);
  const pinoLogger = app.getHttpAdapter().getInstance().log as Pino;
  // Whatever happened to standard output (its reader gone or stalled), the exit is not held by it.
  const exit = async (code: number) => {
    await flushLogsBeforeExit(pinoLogger, LOG_FLUSH_MS);
    process.exit(code);
  };
  // Once shutdown begins, each answer closes its connection: a keep-alive socket whose request was
  // in flight at SIGTERM (say, waiting on a dead database) would otherwise hold the server open.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', (_request, reply, payload, done) => {
      if (!readiness.accepting) void reply.header('connection', 'close');
      done(null, payload);
    });
  await app.listen({ port: settings.port, host: settings.host });
  logger.log(
    `listening on http://${settings.host}:${settings.port}${settings.basePath ?? ''} (docs at /api-docs)`,
  );

  // Graceful shutdown: readiness turns false, the load balancer gets SHUTDOWN_DRAIN seconds to notice,
  // then the server stops accepting, lets in-flight requests finish and closes the database.
  // Past SHUTDOWN_TIMEOUT seconds the process exits anyway.
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    const deadline = setTimeout(
      () => {
        logger.error(`shutdown took more than ${settings.shutdownTimeout} s: exiting`);
        void exit(1);
      },
      settings.shutdownTimeout * 1000 - LOG_FLUSH_MS,
    );
    deadline.unref();
    readiness.drain();
    await sleep(settings.shutdownDrain * 1000);
    await app.close();
    await exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

bootstrap().catch((error: Error) => {
  // The logger may not exist yet (bad settings stop the start before it does): write one JSON line.
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: error.message })}\n`);
  process.exit(1);
});
