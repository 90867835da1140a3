import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app/app.module';
import { configureApp, fastifyAdapter } from '../../src/app/app.setup';
import { Clock, CLOCK } from '../../src/common/clock';
import { parseSettings, Settings } from '../../src/config/settings';
import { createPostgresDatabase, POSTGRES_URL } from './database';

export { API, AUDIT_API, SESSION_API, TOKEN_API, USER_API } from './api-paths';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export const ADMIN_AUTH = basic(ADMIN.username, ADMIN.password);

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Replaces providers before the app is built (`builder.overrideProvider(...)`). */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Collects every log line in `logs` (JSON text), instead of discarding them. */
  captureLogs?: boolean;
  /** Start on the data of an earlier app (closed with `keepData`) instead of an empty store. */
  attach?: StoredData;
}

export interface StoredData {
  dataDir: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

export interface TestApp {
  app: NestFastifyApplication;
  settings: Settings;
  dataDir: string;
  dataSource: DataSource;
  logs: string[];
  stored: StoredData;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A JSON request as the bootstrap Administrator. */
  admin(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  /** Stops the app and deletes its data, unless `keepData` (then pass `stored` as `attach`). */
  close(options?: { keepData?: boolean }): Promise<void>;
}

async function freshData(): Promise<StoredData> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-test-'));
  const postgres = POSTGRES_URL ? await createPostgresDatabase() : undefined;
  return {
    dataDir,
    databaseUrl: postgres?.url,
    drop: async () => {
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The standalone app with the real module graph, on a fresh SQLite file in a temporary DATA_DIR,
 * or on a fresh PostgreSQL database when DATABASE_URL is set.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const stored = options.attach ?? (await freshData());
  const { dataDir } = stored;
  const settings = parseSettings({
    DATA_DIR: dataDir,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: options.captureLogs ? 'debug' : 'silent',
    // Throttling is off unless a test turns it on: suites send many refused requests from one address.
    RATE_LIMIT_MAX: '0',
    LOGIN_MAX_FAILURES: '0',
    ...(stored.databaseUrl ? { DATABASE_URL: stored.databaseUrl } : {}),
    ...options.env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot({ settings })],
  });
  if (options.clock) builder = builder.overrideProvider(CLOCK).useValue(options.clock);
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    fastifyAdapter(settings, destination),
    {
      bufferLogs: true,
    },
  );
  await configureApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const fastify = app.getHttpAdapter().getInstance();
  const inject = (request: InjectOptions) => fastify.inject(request);
  return {
    app,
    settings,
    dataDir,
    dataSource: app.get(DataSource),
    logs,
    stored,
    inject,
    admin: (method, url, payload) =>
      inject({
        method,
        url,
        headers: { authorization: ADMIN_AUTH },
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
    close: async ({ keepData = false } = {}) => {
      await app.close();
      if (!keepData) await stored.drop();
    },
  };
}
