/**
 * The real service, as main.ts starts it (createApp), on a fresh SQLite file in a temporary
 * DATA_DIR, listening on an ephemeral loopback port.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.setup';
import { logDestination } from '../src/config/logger-options';
import { parseSettings } from '../src/config/settings';

export const ADMIN = { username: 'admin', password: 'bench-admin-pass' };

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface RunningService {
  app: NestFastifyApplication;
  origin: string;
}

/**
 * At `logLevel` info (the service's default) every request's line is written, to /dev/null through
 * the service's own destination, so that its cost is measured without flooding the terminal.
 * The per-client rate limit stays on, so that its cost is measured, but at a limit the one client
 * of the bench never reaches (it would measure 429 answers otherwise).
 */
export async function startService(dataDir: string, logLevel: string): Promise<RunningService> {
  const settings = parseSettings({
    DATA_DIR: dataDir,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: logLevel,
    RATE_LIMIT_MAX: '100000000',
    RATE_LIMIT_WINDOW: '1',
    ...(process.env.SQLITE_SYNCHRONOUS
      ? { SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS }
      : {}),
  });
  const app = await createApp({
    settings,
    logDestination: logDestination('/dev/null'),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, origin: `http://127.0.0.1:${port}` };
}
