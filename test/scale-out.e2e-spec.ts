/**
 * Scale-out: three real service processes (`node dist/main.js`) on one fresh PostgreSQL database,
 * started together. Runs on PostgreSQL in every pass (SQLite's too).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './support/database';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN_USERNAME = 'admin';
const USER_API = '/plugin/datafor-modeler/api/user';
const SECRETS_KEY = randomBytes(32).toString('base64');

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  service: ServiceProcess,
  method: 'GET' | 'POST',
  path: string,
  options: { authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${service.origin}${path}`, {
    method,
    headers: {
      ...(options.authorization ? { authorization: options.authorization } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** The pino lines at error level or above (50 = error, 60 = fatal) a process wrote. */
function errorLines(service: ServiceProcess): string[] {
  return service.output
    .join('')
    .split('\n')
    .filter((line) => /"level":(5|6)\d/.test(line));
}

interface Fleet {
  services: ServiceProcess[];
  dataDirs: string[];
}

/** Starts `count` processes at once on `databaseUrl`, each with a DATA_DIR of its own. */
async function startFleet(
  count: number,
  databaseUrl: string,
  env: Record<string, string>,
): Promise<Fleet> {
  const dataDirs = Array.from({ length: count }, () =>
    mkdtempSync(join(tmpdir(), 'datafor-scale-out-')),
  );
  const services = await Promise.all(
    dataDirs.map((dataDir) =>
      startServiceProcess({
        dataDir,
        databaseUrl,
        admin: { username: ADMIN_USERNAME, password: '' },
        env: { SECRETS_KEY, ...env },
      }),
    ),
  );
  return { services, dataDirs };
}

async function stopFleet(fleet: Fleet | undefined): Promise<void> {
  if (!fleet) return;
  await Promise.all(fleet.services.map((service) => stopServiceProcess(service)));
  for (const dataDir of fleet.dataDirs) rmSync(dataDir, { recursive: true, force: true });
}

describe('scale-out: three instances on one PostgreSQL database', () => {
  describe('started together on a fresh database without ADMIN_PASSWORD', () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let fleet: Fleet | undefined;

    beforeAll(async () => {
      database = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
      fleet = await startFleet(3, database.url, {});
    });

    afterAll(async () => {
      await stopFleet(fleet);
      await database?.drop();
    });

    it('migrates once, logs no error, and leaves exactly one password file, whose password works everywhere', async () => {
      const { services, dataDirs } = fleet!;
      for (const service of services) expect(errorLines(service)).toEqual([]);
      const files = dataDirs
        .map((dataDir) => join(dataDir, 'admin-password.txt'))
        .filter((file) => existsSync(file));
      expect(files).toHaveLength(1);
      const password = readFileSync(files[0], 'utf8').trim();
      for (const service of services) {
        const answer = await call(service, 'GET', `${USER_API}/detail`, {
          authorization: basic(ADMIN_USERNAME, password),
        });
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          data: { user: { username: ADMIN_USERNAME, usertype: 'Administrator' } },
        });
      }
      for (const dataDir of dataDirs) {
        expect(readdirSync(dataDir).filter((name) => name.includes('pending'))).toEqual([]);
      }
    });

    it('refuses to start with another SECRETS_KEY, before serving, even with no configuration yet', async () => {
      const otherKey = randomBytes(32).toString('base64');
      const dataDir = mkdtempSync(join(tmpdir(), 'datafor-scale-out-'));
      try {
        const start = startServiceProcess({
          dataDir,
          databaseUrl: database.url,
          admin: { username: ADMIN_USERNAME, password: 'another-admin-password' },
          env: { SECRETS_KEY: otherKey },
        });
        const error = await start.then(
          async (service) => {
            await stopServiceProcess(service, 'SIGKILL');
            return new Error('the service started');
          },
          (failure: Error) => failure,
        );
        expect(error.message).toMatch(/^the service exited \(1\) before it was ready/);
        expect(error.message).toContain('SECRETS_KEY');
        expect(error.message).not.toContain(otherKey);
        expect(error.message).not.toContain(SECRETS_KEY);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
