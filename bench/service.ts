/**
 * The real service, built as createApp builds it (AppModule, its Fastify adapter, configureApp)
 * with two providers replaced: its audit writer is a SwitchedAuditWriter and its verified-token
 * cache a SwitchedTokenCache. It runs on a fresh SQLite file in a temporary DATA_DIR (or on the
 * PostgreSQL database it is given), listening on an ephemeral loopback port. run.ts forks this
 * file, so that the service has a process of its own like each anchor (see serveChild in child.ts
 * for the messages); besides what every child answers, it answers 'audit-off' and 'audit-on' (the
 * audit trail writes nothing in between, for the audit scenario) and 'audit-count' (the records
 * it did not write); likewise 'token-cache-off', 'token-cache-on' and 'token-cache-count' (the
 * lookups it failed) for the verified-token cache.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AppModule } from '../src/app/app.module';
import { configureApp, fastifyAdapter } from '../src/app/app.setup';
import {
  AUDIT_WRITER,
  type AuditRow,
  type AuditWriter,
  auditWriterFor,
} from '../src/audit/audit-writer';
import { AuditEventEntity } from '../src/audit/entities/audit-event.entity';
import { logDestination } from '../src/config/logger-options';
import { parseSettings } from '../src/config/settings';
import { type VerifiedEntry, VerifiedTokenCache } from '../src/token/verified-token-cache';
import { serveChild } from './child';
import { ADMIN } from './credentials';

export interface ServiceStart {
  dataDir: string;
  /** PostgreSQL instead of SQLite in `dataDir`. */
  databaseUrl?: string;
  /** The service's LOG_LEVEL. */
  logLevel: string;
  /** More settings, e.g. the audit retention of the growth scenario's pruning phase. */
  env?: Record<string, string>;
}

export interface RunningService {
  app: NestFastifyApplication;
  origin: string;
  auditWriter: SwitchedAuditWriter;
  tokenCache: SwitchedTokenCache;
}

/**
 * The service's own audit writer (auditWriterFor) with a switch: while `off`, it writes nothing
 * and counts the rows it was given; AuditService queues and groups them as ever. Pruning and
 * closing are the writer's own.
 */
export class SwitchedAuditWriter implements AuditWriter {
  off = false;
  skipped = 0;

  constructor(private readonly writer: AuditWriter) {}

  get prunesInTurn(): boolean {
    return this.writer.prunesInTurn;
  }

  write(rows: AuditRow[]): Promise<void> {
    if (!this.off) return this.writer.write(rows);
    this.skipped += rows.length;
    return Promise.resolve();
  }

  prune(...batch: Parameters<AuditWriter['prune']>): ReturnType<AuditWriter['prune']> {
    return this.writer.prune(...batch);
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

/**
 * The verified-token cache with a switch: while `off`, it finds nothing, so that every token is
 * verified afresh (and remembered, as with the cache on), and it counts the lookups it failed.
 */
export class SwitchedTokenCache extends VerifiedTokenCache {
  off = false;
  misses = 0;

  override find(...lookup: Parameters<VerifiedTokenCache['find']>): VerifiedEntry | undefined {
    if (!this.off) return super.find(...lookup);
    this.misses++;
    return undefined;
  }
}

/**
 * At `logLevel` info (the service's default) every request's line is written, to /dev/null through
 * the service's own destination, so that its cost is measured without flooding the terminal.
 * The per-client rate limit stays on, so that its cost is measured, but at a limit the one client
 * of the bench never reaches (it would measure 429 answers otherwise).
 */
export async function startService({
  dataDir,
  databaseUrl,
  logLevel,
  env,
}: ServiceStart): Promise<RunningService> {
  const settings = parseSettings({
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: logLevel,
    RATE_LIMIT_MAX: '100000000',
    RATE_LIMIT_WINDOW: '1',
    ...(process.env.SQLITE_SYNCHRONOUS
      ? { SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS }
      : {}),
    ...env,
  });
  let auditWriter: SwitchedAuditWriter | undefined;
  const tokenCache = new SwitchedTokenCache();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot({ settings })] })
    .overrideProvider(AUDIT_WRITER)
    .useFactory({
      inject: [getRepositoryToken(AuditEventEntity)],
      factory: (events: Repository<AuditEventEntity>) =>
        (auditWriter = new SwitchedAuditWriter(auditWriterFor(events))),
    })
    .overrideProvider(VerifiedTokenCache)
    .useValue(tokenCache)
    .compile();
  if (!auditWriter) throw new Error('the audit writer was not made');
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    fastifyAdapter(settings, logDestination('/dev/null')),
    { bufferLogs: true },
  );
  await configureApp(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, origin: `http://127.0.0.1:${port}`, auditWriter, tokenCache };
}

if (require.main === module) {
  let service: Pick<RunningService, 'auditWriter' | 'tokenCache'> | undefined;
  const started = () => {
    if (!service) throw new Error('the service has not started');
    return service;
  };
  serveChild(
    async (start: ServiceStart) => {
      const { app, auditWriter, tokenCache } = await startService(start);
      service = { auditWriter, tokenCache };
      return { server: app.getHttpServer(), close: () => app.close() };
    },
    {
      'audit-off': () => {
        started().auditWriter.off = true;
      },
      'audit-on': () => {
        started().auditWriter.off = false;
      },
      'audit-count': () => started().auditWriter.skipped,
      'token-cache-off': () => {
        started().tokenCache.off = true;
      },
      'token-cache-on': () => {
        started().tokenCache.off = false;
      },
      'token-cache-count': () => started().tokenCache.misses,
    },
  );
}
