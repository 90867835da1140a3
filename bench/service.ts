/**
 * The real service, as main.ts starts it (createApp), on a fresh SQLite file in a temporary
 * DATA_DIR, listening on an ephemeral loopback port. run.ts forks this file, so that the service
 * has a process of its own like each anchor (see serveChild in child.ts for the messages); besides
 * what every child answers, it answers 'audit-off' and 'audit-on' (AuditService.record a no-op in
 * between, for the audit scenario) and 'audit-count' (the records the no-op took); likewise
 * 'token-cache-off', 'token-cache-on' and 'token-cache-count' (the lookups it failed) for the
 * verified-token cache.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app/app.setup';
import { AuditService } from '../src/audit/audit.service';
import { logDestination } from '../src/app/config/logger-options';
import { parseSettings } from '../src/app/config/settings';
import { VerifiedTokenCache } from '../src/token/verified-token-cache';
import { serveChild } from './child';
import { ADMIN } from './credentials';

export interface ServiceStart {
  dataDir: string;
  /** The service's LOG_LEVEL. */
  logLevel: string;
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
export async function startService({ dataDir, logLevel }: ServiceStart): Promise<RunningService> {
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

/**
 * AuditService.record a no-op between `off` and `on`: callers reach the instance's own property
 * before the prototype's method, which is all that is there again after.
 */
function auditSwitch(audit: AuditService) {
  let skipped = 0;
  const noop: AuditService['record'] = () => {
    skipped++;
    return Promise.resolve();
  };
  return {
    off: () => {
      audit.record = noop;
    },
    on: () => {
      Reflect.deleteProperty(audit, 'record');
    },
    skipped: () => skipped,
  };
}

/** The verified-token cache finds nothing between `off` and `on`: every token is verified afresh. */
function tokenCacheSwitch() {
  const find = VerifiedTokenCache.prototype.find;
  let misses = 0;
  return {
    off: () => {
      VerifiedTokenCache.prototype.find = () => {
        misses++;
        return undefined;
      };
    },
    on: () => {
      VerifiedTokenCache.prototype.find = find;
    },
    misses: () => misses,
  };
}

if (require.main === module) {
  const tokenCache = tokenCacheSwitch();
  let audit: ReturnType<typeof auditSwitch> | undefined;
  const started = () => {
    if (!audit) throw new Error('the service has not started');
    return audit;
  };
  serveChild(
    async (start: ServiceStart) => {
      const { app } = await startService(start);
      audit = auditSwitch(app.get(AuditService));
      return { server: app.getHttpServer(), close: () => app.close() };
    },
    {
      'audit-off': () => started().off(),
      'audit-on': () => started().on(),
      'audit-count': () => started().skipped(),
      'token-cache-off': tokenCache.off,
      'token-cache-on': tokenCache.on,
      'token-cache-count': tokenCache.misses,
    },
  );
}
