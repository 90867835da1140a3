import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSettings, settingDefaults, SettingsError } from './settings';

describe('parseSettings', () => {
  it('fills in the documented defaults', () => {
    expect(parseSettings({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      dbPoolMax: 10,
      sqliteSynchronous: 'full',
      dbConnectTimeout: 3,
      dbQueryTimeout: 5,
      dbKeepaliveIdle: 30,
      adminUsername: 'admin',
      adminPassword: undefined,
      logLevel: 'info',
      bodyLimit: 65536,
      basePath: undefined,
      tokenMaxExpire: 2592000,
      tokenMinSecretBytes: 0,
      tokenClockLeeway: 30,
      sessionTtl: 28800,
      authCacheTtl: 60,
      rateLimitMax: 1200,
      rateLimitWindow: 60,
      loginMaxFailures: 10,
      loginFailureWindow: 900,
      loginLockDuration: 60,
      loginLockMaxDuration: 3600,
      loginLockReset: 86400,
      loginKnownClientTtl: 2592000,
      passwordHashConcurrency: availableParallelism(),
      passwordHashQueue: 16,
      corsOrigins: [],
      cookieSecure: false,
      trustProxy: false,
      shutdownDrain: 0,
      shutdownTimeout: 10,
      httpHeadersTimeout: 10,
      httpRequestTimeout: 30,
      httpKeepaliveTimeout: 72,
      httpMaxConnectionsPerAddress: 100,
      secretsKey: undefined,
      securityHeadersTls: 'auto',
      metricsPort: undefined,
      metricsToken: undefined,
      redisUrl: undefined,
      redisPrefix: 'datafor:',
      redisCommandTimeout: 50,
    });
  });

  it('reads METRICS_PORT and METRICS_TOKEN, and refuses a metrics port that is the main one', () => {
    expect(
      parseSettings({
        PORT: '8080',
        METRICS_PORT: '9464',
        METRICS_TOKEN: 'scrape-token-0123456789',
      }),
    ).toMatchObject({ port: 8080, metricsPort: 9464, metricsToken: 'scrape-token-0123456789' });
    for (const env of [
      { METRICS_PORT: '3000' },
      { PORT: '9464', METRICS_PORT: '9464' },
      { METRICS_PORT: '0' },
      { METRICS_PORT: 'metrics' },
    ]) {
      expect(() => parseSettings(env)).toThrow(
        'Invalid configuration: METRICS_PORT must be an integer from 1 to 65535, other than PORT.',
      );
    }
  });

  it('refuses a short METRICS_TOKEN without repeating it', () => {
    const run = () => parseSettings({ METRICS_TOKEN: 'too short' });
    expect(run).toThrow(/METRICS_TOKEN must be 16 to 256 printable characters without spaces/);
    expect(run).not.toThrow(/too short/);
  });

  it('reads and converts the variables given', () => {
    const settings = parseSettings({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@db:5432/x',
      BASE_PATH: '/datafor/',
      LOG_LEVEL: 'DEBUG',
      TOKEN_MAX_EXPIRE: '3600',
    });
    expect(settings).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://u@db:5432/x',
      basePath: '/datafor',
      logLevel: 'debug',
      tokenMaxExpire: 3600,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['BODY_LIMIT', '12'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'loud'],
    ['BASE_PATH', 'no-slash'],
    ['TOKEN_MAX_EXPIRE', '0'],
    ['TOKEN_MIN_SECRET_BYTES', '-1'],
    ['SECRETS_KEY', 'too-short'],
    ['ADMIN_USERNAME', 'with:colon'],
    ['ADMIN_USERNAME', 'zero\u200bwidth'],
    ['ADMIN_USERNAME', 'lone\ud800surrogate'],
    ['CORS_ORIGINS', 'erp.example.com'],
    ['COOKIE_SECURE', 'maybe'],
    ['RATE_LIMIT_MAX', '-1'],
    ['DB_POOL_MAX', '0'],
    ['DB_CONNECT_TIMEOUT', '0'],
    ['DB_CONNECT_TIMEOUT', '1.5'],
    ['DB_QUERY_TIMEOUT', '0'],
    ['DB_QUERY_TIMEOUT', '3601'],
    ['DB_KEEPALIVE_IDLE', 'off'],
    ['TRUST_PROXY', 'true'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '101'],
    ['TRUST_PROXY', '0.0.0.0/0'],
    ['TRUST_PROXY', '::ffff:0.0.0.0/96'],
    ['TRUST_PROXY', '0.0.0.0/1,128.0.0.0/1'],
    ['TRUST_PROXY', '10.0.0.1, 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1'],
    ['TRUST_PROXY', '::/1,8000::/1'],
    ['TRUST_PROXY', '::/1'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['HTTP_HEADERS_TIMEOUT', '0'],
    ['HTTP_REQUEST_TIMEOUT', '5'],
    ['HTTP_KEEPALIVE_TIMEOUT', 'forever'],
    ['HTTP_MAX_CONNECTIONS_PER_ADDRESS', '-1'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['LOGIN_LOCK_DURATION', '0'],
    ['LOGIN_LOCK_MAX_DURATION', 'an hour'],
    ['LOGIN_LOCK_RESET', '2592001'],
    ['LOGIN_KNOWN_CLIENT_TTL', '-5'],
    ['SECURITY_HEADERS_TLS', 'yes'],
    ['SQLITE_SYNCHRONOUS', 'off'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_PREFIX', 'has space'],
    ['REDIS_COMMAND_TIMEOUT', '0'],
    ['REDIS_COMMAND_TIMEOUT', '50ms'],
    ['REDIS_COMMAND_TIMEOUT', '10001'],
  ])('stops the start with a sentence naming %s when it is %p', (name, value) => {
    expect(() => parseSettings({ [name]: value })).toThrow(SettingsError);
    expect(() => parseSettings({ [name]: value })).toThrow(new RegExp(`${name} must`));
  });

  it('reads the PostgreSQL pool size, timeouts and keepalive in seconds', () => {
    expect(
      parseSettings({
        DB_POOL_MAX: '25',
        DB_CONNECT_TIMEOUT: '2',
        DB_QUERY_TIMEOUT: '30',
        DB_KEEPALIVE_IDLE: '60',
      }),
    ).toMatchObject({
      dbPoolMax: 25,
      dbConnectTimeout: 2,
      dbQueryTimeout: 30,
      dbKeepaliveIdle: 60,
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
    ['loopback,fd00::/8,::1', ['loopback', 'fd00::/8', '::1']],
  ])('reads TRUST_PROXY %p as a hop count or the proxies Fastify trusts', (value, expected) => {
    expect(parseSettings({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('refuses TRUST_PROXY=true with the forms it accepts', () => {
    expect(() => parseSettings({ TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY must be false, the number of reverse proxies .* or a comma-separated list of their addresses and CIDRs .*; true is refused/,
    );
  });

  it('takes ADMIN_USERNAME in NFC, the form every username is stored in', () => {
    expect(parseSettings({ ADMIN_USERNAME: 'Ame\u0301lie' }).adminUsername).toBe('Am\u00e9lie');
  });

  it('reads SECURITY_HEADERS_TLS in any letter case', () => {
    expect(parseSettings({ SECURITY_HEADERS_TLS: ' Always ' }).securityHeadersTls).toBe('always');
  });

  it('never repeats a secret value in its error', () => {
    const run = () => parseSettings({ ADMIN_PASSWORD: 'short', SECRETS_KEY: 'not-a-key-value' });
    expect(run).toThrow(/ADMIN_PASSWORD must be at least 8 characters long/);
    expect(run).not.toThrow(/short"|not-a-key-value/);
  });

  it('reads REDIS_URL and REDIS_PREFIX, and never repeats the URL (it may hold a password) in its error', () => {
    expect(
      parseSettings({ REDIS_URL: 'redis://:pw@cache.internal:6379/2', REDIS_PREFIX: 'tokens:' }),
    ).toMatchObject({ redisUrl: 'redis://:pw@cache.internal:6379/2', redisPrefix: 'tokens:' });
    const run = () => parseSettings({ REDIS_URL: 'redis-secret-password@cache' });
    expect(run).toThrow(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(run).not.toThrow(/secret-password/);
  });

  it('ignores variables it does not know', () => {
    expect(parseSettings({ HOME: '/root', PATH: '/bin' }).port).toBe(3000);
  });
});

describe('.env.example', () => {
  const lines = readFileSync(resolve(process.cwd(), '.env.example'), 'utf8').split('\n');
  /** NAME=value lines, and `# NAME=` lines for settings unset by default. */
  const listed = new Map(
    lines
      .map((line) => /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[2], { value: match[3], unset: match[1] !== undefined }]),
  );

  it.each(Object.entries(settingDefaults()))('lists %s with its default', (name, fallback) => {
    const entry = listed.get(name);
    expect(entry).toBeDefined();
    if (fallback === undefined) expect(entry?.unset).toBe(true);
    else expect(entry).toEqual({ value: String(fallback), unset: false });
  });

  it('lists no setting the service does not read', () => {
    expect([...listed.keys()].filter((name) => !(name in settingDefaults()))).toEqual([]);
  });

  it('is valid as it stands', () => {
    const active = Object.fromEntries(
      [...listed].filter(([, entry]) => !entry.unset).map(([name, entry]) => [name, entry.value]),
    );
    expect(() => parseSettings(active)).not.toThrow();
  });
});
