/**
 * Scale-out: three real service processes (`node dist/main.js`) on one fresh PostgreSQL database,
 * started together, once with Redis (REDIS_URL, a prefix of this run's own) and once without.
 * Checks concurrent first starts, the master key check, that every kind of change made on one
 * instance is refused on another within a second (delays printed), shared sign-in failure counts
 * and rate limits, and losing and regaining the connection that hears changes. Needs PostgreSQL
 * and Redis in every pass, SQLite's too: it fails, never skips, when either does not answer.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { SESSION_API, TOKEN_API, USER_API } from './support/api-paths';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './support/database';
import { decodeToken } from './support/jwt';
import { connectRedis, REDIS_URL } from './support/redis';
import {
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcess,
} from './support/service-process';

const ADMIN_USERNAME = 'admin';
const LOGIN = `${SESSION_API}/login`;
const REDIS_PREFIX = `datafor-test-${randomBytes(6).toString('hex')}:`;
/** The bar: a change made on one instance is refused on the others within this time. */
const BAR_MS = 1000;
const MAX_FAILURES = 5;
const RATE_LIMIT_MAX = 100;
const delays: { bus: string; change: string; ms: number }[] = [];
const SECRETS_KEY = randomBytes(32).toString('base64');

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** `JSESSIONID=...`, when the answer set it. */
  session?: string;
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
  const session = /(?:^|,\s*)(JSESSIONID=[^;,\s]+)/.exec(
    response.headers.get('set-cookie') ?? '',
  )?.[1];
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ...(session ? { session } : {}),
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
        admin: { username: ADMIN_USERNAME, password: env.ADMIN_PASSWORD ?? '' },
        env: { SECRETS_KEY, AUTH_CACHE_TTL: '60', ...env },
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

/** Whether `service` refuses (or no longer recognises) the caller: anything but a 200 naming a user. */
async function refused(
  service: ServiceProcess,
  options: { authorization?: string; headers?: Record<string, string> },
  path = `${USER_API}/detail`,
): Promise<boolean> {
  const answer = await call(service, 'GET', path, options);
  if (answer.status !== 200) return true;
  const data = answer.body.data as { user?: unknown } | undefined;
  return path === `${USER_API}/detail` ? !data?.user : false;
}

/**
 * Checks that `probe` is accepted on `other` (warming its caches), makes the change on `origin`,
 * then measures from the acknowledgement to the first refusal on `other`.
 */
async function propagation(
  bus: string,
  change: string,
  probe: () => Promise<boolean>,
  makeChange: () => Promise<Answer>,
): Promise<number> {
  expect({ change, refusedBefore: await probe() }).toEqual({ change, refusedBefore: false });
  const answer = await makeChange();
  expect({ change, status: answer.status }).toEqual({ change, status: 200 });
  const acknowledged = performance.now();
  while (!(await probe())) {
    if (performance.now() - acknowledged > 3 * BAR_MS) break;
  }
  const ms = Math.round(performance.now() - acknowledged);
  delays.push({ bus, change, ms });
  return ms;
}

/** Admin calls on one instance of a fleet. */
class Admin {
  constructor(
    private readonly authorization: string,
    private readonly service: () => ServiceProcess,
  ) {}

  post(path: string, body: unknown, on = this.service()): Promise<Answer> {
    return call(on, 'POST', path, { authorization: this.authorization, body });
  }

  async config(name: string, secret: string, extra: Record<string, unknown> = {}): Promise<void> {
    const answer = await this.post(`${TOKEN_API}/update`, {
      name,
      secret,
      algorithm: 'HS256',
      expire: 3600,
      enable: '1',
      inituser: '0',
      fieldmap: { username: 'username' },
      ...extra,
    });
    expect(answer.status).toBe(200);
  }

  async user(username: string, password: string, extra: Record<string, unknown> = {}) {
    const answer = await this.post(`${USER_API}/insertOrUpdate`, {
      username,
      password,
      ...extra,
    });
    expect(answer.status).toBe(200);
  }

  async mint(name: string, secret: string, username: string): Promise<string> {
    const answer = await this.post(`${TOKEN_API}/generate`, {
      name,
      privateKey: secret,
      payload: { username },
    });
    expect(answer.status).toBe(200);
    return answer.body.token as string;
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Every kind of change, made on one instance and checked on another (each pair of the three in
 * turn). Each delay must stay under the bar.
 */
async function checkEveryChangeKind(bus: string, fleet: Fleet, admin: Admin): Promise<void> {
  const [a, b, c] = fleet.services;
  const pairs: [ServiceProcess, ServiceProcess][] = [
    [a, b],
    [b, c],
    [c, a],
  ];
  let turn = 0;
  const next = () => pairs[turn++ % pairs.length];
  const secret = (label: string) => `${label}-${randomBytes(24).toString('hex')}`;
  await admin.user('reader', 'reader-password-1');

  const kinds: [
    string,
    () => Promise<{ probe: () => Promise<boolean>; change: () => Promise<Answer> }>,
  ][] = [
    [
      'configuration deleted',
      async () => {
        const [origin, other] = next();
        const key = secret('delete');
        await admin.config('gone', key);
        const token = await admin.mint('gone', key, 'reader');
        return {
          probe: () => refused(other, bearer(token)),
          change: () => admin.post(`${TOKEN_API}/delete`, { name: 'gone' }, origin),
        };
      },
    ],
    [
      'configuration disabled',
      async () => {
        const [origin, other] = next();
        const key = secret('disable');
        await admin.config('off', key);
        const token = await admin.mint('off', key, 'reader');
        return {
          probe: () => refused(other, bearer(token)),
          change: () =>
            admin.post(
              `${TOKEN_API}/update`,
              {
                name: 'off',
                algorithm: 'HS256',
                expire: 3600,
                enable: '0',
                inituser: '0',
                fieldmap: { username: 'username' },
              },
              origin,
            ),
        };
      },
    ],
    [
      'configuration secret changed',
      async () => {
        const [origin, other] = next();
        const key = secret('rotate');
        await admin.config('rotated', key);
        const token = await admin.mint('rotated', key, 'reader');
        return {
          probe: () => refused(other, bearer(token)),
          change: () =>
            admin.post(
              `${TOKEN_API}/update`,
              {
                name: 'rotated',
                secret: secret('new'),
                algorithm: 'HS256',
                expire: 3600,
                enable: '1',
                inituser: '0',
                fieldmap: { username: 'username' },
              },
              origin,
            ),
        };
      },
    ],
    [
      'user disabled',
      async () => {
        const [origin, other] = next();
        const key = secret('users');
        await admin.config('people', key);
        await admin.user('leaver', 'leaver-password-1');
        const token = await admin.mint('people', key, 'leaver');
        return {
          probe: () => refused(other, bearer(token)),
          change: () =>
            admin.post(`${USER_API}/insertOrUpdate`, { username: 'leaver', enabled: '0' }, origin),
        };
      },
    ],
    [
      'user deleted',
      async () => {
        const [origin, other] = next();
        const key = secret('users');
        await admin.config('people2', key);
        await admin.user('deleted', 'deleted-password-1');
        const token = await admin.mint('people2', key, 'deleted');
        return {
          probe: () => refused(other, bearer(token)),
          change: () => admin.post(`${USER_API}/delete`, { username: 'deleted' }, origin),
        };
      },
    ],
    [
      'session of a disabled user',
      async () => {
        const [origin, other] = next();
        await admin.user('browser', 'browser-password-1');
        const login = await call(other, 'POST', LOGIN, {
          body: { username: 'browser', password: 'browser-password-1' },
        });
        expect(login.status).toBe(200);
        return {
          probe: () => refused(other, { headers: { cookie: login.session! } }),
          change: () =>
            admin.post(`${USER_API}/insertOrUpdate`, { username: 'browser', enabled: '0' }, origin),
        };
      },
    ],
    [
      'jti revoked',
      async () => {
        const [origin, other] = next();
        const key = secret('jti');
        await admin.config('revoking', key);
        const token = await admin.mint('revoking', key, 'reader');
        const { jti } = decodeToken(token).claims;
        return {
          probe: () => refused(other, bearer(token)),
          change: () => admin.post(`${TOKEN_API}/revoke`, { jti }, origin),
        };
      },
    ],
    [
      'cut-off revocation',
      async () => {
        const [origin, other] = next();
        const key = secret('cutoff');
        await admin.config('cutting', key);
        const token = await admin.mint('cutting', key, 'reader');
        const iat = decodeToken(token).claims.iat as number;
        return {
          probe: () => refused(other, bearer(token)),
          change: () =>
            admin.post(`${TOKEN_API}/revoke`, { name: 'cutting', before: iat + 1 }, origin),
        };
      },
    ],
    [
      'previous key retired',
      async () => {
        const [origin, other] = next();
        const third = fleet.services.find((service) => service !== origin && service !== other)!;
        const key = secret('retire');
        const nextKey = secret('next');
        await admin.config('retiring', key);
        const token = await admin.mint('retiring', key, 'reader');
        // Both other instances hold the version before the rotation, so the rotation must reach
        // their caches, not only a first read of the database.
        for (const service of [other, third])
          expect(await refused(service, bearer(token))).toBe(false);
        const rotated = await admin.post(
          `${TOKEN_API}/rotate`,
          { name: 'retiring', secret: nextKey, overlap: 3600 },
          origin,
        );
        expect(rotated.status).toBe(200);
        const rotatedAt = performance.now();
        const minted = await admin.post(
          `${TOKEN_API}/generate`,
          { name: 'retiring', privateKey: nextKey, payload: { username: 'reader' } },
          origin,
        );
        const fresh = minted.body.token as string;
        expect(decodeToken(fresh).header.kid).toBe(rotated.body.kid);
        // The rotation reaches both: a token of the new kid signs in on each.
        const accepted = async () =>
          !(await refused(other, bearer(fresh))) && !(await refused(third, bearer(fresh)));
        while (!(await accepted())) {
          if (performance.now() - rotatedAt > 3 * BAR_MS) break;
        }
        const ms = Math.round(performance.now() - rotatedAt);
        delays.push({ bus, change: 'key rotated (new kid accepted on both others)', ms });
        expect({ change: 'key rotated', within: ms < BAR_MS }).toEqual({
          change: 'key rotated',
          within: true,
        });
        // The previous key's token still signs in on both (the overlap), until the retirement,
        // after which it is refused on every instance.
        for (const service of [other, third])
          expect(await refused(service, bearer(token))).toBe(false);
        return {
          probe: async () =>
            (await refused(other, bearer(token))) && (await refused(third, bearer(token))),
          change: () => admin.post(`${TOKEN_API}/retire`, { name: 'retiring' }, origin),
        };
      },
    ],
    [
      "Administrator's password changed",
      async () => {
        const [origin, other] = next();
        await admin.user('admin2', 'admin2-password-1', { usertype: 'Administrator' });
        return {
          probe: () => refused(other, { authorization: basic('admin2', 'admin2-password-1') }),
          change: () =>
            admin.post(
              `${USER_API}/insertOrUpdate`,
              { username: 'admin2', password: 'admin2-password-2' },
              origin,
            ),
        };
      },
    ],
    [
      'Administrator demoted',
      async () => {
        const [origin, other] = next();
        await admin.user('admin3', 'admin3-password-1', { usertype: 'Administrator' });
        return {
          probe: () =>
            refused(
              other,
              { authorization: basic('admin3', 'admin3-password-1') },
              `${USER_API}/list`,
            ),
          change: () =>
            admin.post(
              `${USER_API}/insertOrUpdate`,
              { username: 'admin3', usertype: 'SYS_Reader' },
              origin,
            ),
        };
      },
    ],
  ];
  for (const [change, prepare] of kinds) {
    const { probe, change: make } = await prepare();
    const ms = await propagation(bus, change, probe, make);
    expect({ change, within: ms < BAR_MS }).toEqual({ change, within: true });
  }
}

/**
 * A change nobody announces (made straight in the database), then the connection that hears
 * announcements is cut: the instances drop every cache, so they see it; once they listen again,
 * announced changes reach them again.
 */
async function checkLostConnection(
  bus: string,
  fleet: Fleet,
  admin: Admin,
  databaseUrl: string,
  cut: () => Promise<void>,
  listening: () => Promise<boolean>,
): Promise<void> {
  const [a, b, c] = fleet.services;
  const key = `lost-${randomBytes(24).toString('hex')}`;
  await admin.config('quiet-config', key);
  await admin.user('quiet', 'quiet-password-1');
  await admin.user('loud', 'loud-password-1');
  const token = bearer(await admin.mint('quiet-config', key, 'quiet'));
  const quiet = { authorization: basic('quiet', 'quiet-password-1') };
  const loud = { authorization: basic('loud', 'loud-password-1') };
  expect(await refused(c, quiet)).toBe(false);
  expect(await refused(c, loud)).toBe(false);

  const database = new pg.Client({ connectionString: databaseUrl });
  await database.connect();
  try {
    expect(await refused(b, token)).toBe(false);
    await database.query('UPDATE users SET enabled = false WHERE username = $1', ['quiet']);
  } finally {
    await database.end();
  }
  // Unannounced: C still answers from the credential it verified (AUTH_CACHE_TTL is 60 s).
  expect(await refused(c, quiet)).toBe(false);

  await cut();
  const cutAt = performance.now();
  // B's user cache (5 s) and C's verified credentials (60 s) go at once.
  while (!(await refused(b, token)) && performance.now() - cutAt < 3 * BAR_MS);
  const dropMs = Math.round(performance.now() - cutAt);
  delays.push({ bus, change: 'connection lost: caches dropped', ms: dropMs });
  expect(dropMs).toBeLessThan(BAR_MS);
  expect(await refused(c, quiet)).toBe(true);

  const deadline = Date.now() + 10_000;
  while (!(await listening()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(await listening()).toBe(true);
  expect(await refused(c, loud)).toBe(false);
  const ms = await propagation(
    bus,
    'user disabled, after listening again',
    () => refused(c, loud),
    () => admin.post(`${USER_API}/insertOrUpdate`, { username: 'loud', enabled: '0' }, a),
  );
  expect(ms).toBeLessThan(BAR_MS);
}

/** The ids of the subscriber connections of this run's instances, from CLIENT LIST. */
async function subscriberIds(redis: Redis): Promise<string[]> {
  const list = (await redis.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${REDIS_PREFIX}changes `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]);
}

afterAll(() => {
  if (delays.length === 0) return;
  const rows = delays.map(
    ({ bus, change, ms }) => `  ${bus.padEnd(20)} ${change.padEnd(40)} ${ms} ms`,
  );
  process.stdout.write(
    `\nPropagation delays (acknowledgement on one instance -> refusal on another):\n${rows.join('\n')}\n`,
  );
});

describe('scale-out: three instances on one PostgreSQL database and one Redis', () => {
  let redis: Redis;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let fleet: Fleet | undefined;
  let admin: Admin;

  beforeAll(async () => {
    redis = await connectRedis();
    database = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
    // Started together on a fresh database, without ADMIN_PASSWORD.
    fleet = await startFleet(3, database.url, {
      REDIS_URL,
      REDIS_PREFIX,
      TRUST_PROXY: '1',
      RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
      RATE_LIMIT_WINDOW: '60',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    });
  }, 60_000);

  afterAll(async () => {
    await stopFleet(fleet);
    await database?.drop();
    if (redis) {
      const keys = await redis.keys(`${REDIS_PREFIX}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
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
    let turn = 0;
    admin = new Admin(basic(ADMIN_USERNAME, password), () => services[turn++ % services.length]);
  });

  it('refuses to start with another SECRETS_KEY, before serving, even with no configuration yet', async () => {
    const otherKey = randomBytes(32).toString('base64');
    const dataDir = mkdtempSync(join(tmpdir(), 'datafor-scale-out-'));
    try {
      const start = startServiceProcess({
        dataDir,
        databaseUrl: database.url,
        admin: { username: ADMIN_USERNAME, password: 'another-admin-password' },
        env: { SECRETS_KEY: otherKey, REDIS_URL, REDIS_PREFIX },
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

  it('refuses every kind of change on the other instances within a second (Redis pub/sub)', async () => {
    await checkEveryChangeKind('Redis pub/sub', fleet!, admin);
  });

  it('locks a username at the configured count of failures spread over the instances, not at three times it', async () => {
    const [a, b, c] = fleet!.services;
    await admin.user('guessed', 'guessed-password-1');
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const attempt = (service: ServiceProcess, password: string, address: string) =>
      call(service, 'GET', `${USER_API}/detail`, {
        authorization: basic('guessed', password),
        headers: from(address),
      });
    const order = [a, b, c, a];
    for (const [i, service] of order.entries())
      expect((await attempt(service, `wrong-${i}`, '198.51.100.1')).status).toBe(401);
    // One short of the count: the owner still signs in from a new address.
    expect((await attempt(c, 'guessed-password-1', '198.51.100.2')).status).toBe(200);
    expect((await attempt(b, 'wrong-4', '198.51.100.1')).status).toBe(401);
    // The fifth failure, the second on B, locked the username on every instance.
    for (const service of [a, b, c]) {
      const answer = await attempt(service, 'guessed-password-1', '198.51.100.3');
      expect(answer.status).toBe(429);
      expect(answer.body).toMatchObject({ success: false, code: '429' });
    }
  });

  it('shares the rate limit: RATE_LIMIT_MAX requests from one address over the three instances, then 429', async () => {
    const services = fleet!.services;
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT_MAX + 3; i++) {
      const answer = await call(services[i % 3], 'GET', `${USER_API}/list`, {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, RATE_LIMIT_MAX).every((status) => status !== 429)).toBe(true);
    expect(statuses.slice(RATE_LIMIT_MAX)).toEqual([429, 429, 429]);
  });

  it('drops every cache when the Redis subscriber is cut, and hears changes again once it is back', async () => {
    await checkLostConnection(
      'Redis pub/sub',
      fleet!,
      admin,
      database.url,
      async () => {
        const ids = await subscriberIds(redis);
        expect(ids).toHaveLength(3);
        for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', id);
      },
      async () => (await subscriberIds(redis)).length === 3,
    );
  });

  it('logged nothing at error level, and never REDIS_URL, on any instance', () => {
    for (const service of fleet!.services) {
      expect(errorLines(service)).toEqual([]);
      expect(service.output.join('')).not.toContain(REDIS_URL);
    }
  });
});

describe('scale-out: three instances on one PostgreSQL database, without Redis', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let fleet: Fleet | undefined;
  let admin: Admin;
  const listeners = async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'datafor-token-service changes'`,
      );
      return rows.map((row) => row.pid);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
    fleet = await startFleet(3, database.url, { ADMIN_PASSWORD: 'fleet-admin-password-1' });
    let turn = 0;
    admin = new Admin(
      basic(ADMIN_USERNAME, 'fleet-admin-password-1'),
      () => fleet!.services[turn++ % 3],
    );
  }, 60_000);

  afterAll(async () => {
    await stopFleet(fleet);
    await database?.drop();
  });

  it('warns once per instance that limits are per instance, and logs no error', async () => {
    const warning = 'rate limits and sign-in failure counts are per instance';
    // Log lines reach standard output at least once a second.
    for (let waited = 0; waited < 3000; waited += 100) {
      if (fleet!.services.every((service) => service.output.join('').includes(warning))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const service of fleet!.services) {
      const text = service.output.join('');
      expect(text.split(warning).length - 1).toBe(1);
      expect(errorLines(service)).toEqual([]);
    }
  });

  it('refuses every kind of change on the other instances within a second (LISTEN/NOTIFY)', async () => {
    await checkEveryChangeKind('PostgreSQL NOTIFY', fleet!, admin);
  });

  it('drops every cache when the LISTEN connection is terminated, and hears changes again once it listens again', async () => {
    await checkLostConnection(
      'PostgreSQL NOTIFY',
      fleet!,
      admin,
      database.url,
      async () => {
        const pids = await listeners();
        expect(pids).toHaveLength(3);
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          for (const pid of pids) await client.query('SELECT pg_terminate_backend($1)', [pid]);
        } finally {
          await client.end();
        }
      },
      async () => (await listeners()).length === 3,
    );
  });

  it('logged nothing at error level on any instance', () => {
    for (const service of fleet!.services) expect(errorLines(service)).toEqual([]);
  });
});
