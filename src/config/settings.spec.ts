import { parseSettings, SettingsError } from './settings';

describe('parseSettings', () => {
  it('fills in the documented defaults', () => {
    expect(parseSettings({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      dbPoolMax: 10,
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
      corsOrigins: [],
      cookieSecure: false,
      trustProxy: false,
      shutdownDrain: 0,
      shutdownTimeout: 10,
      secretsKey: undefined,
      redisUrl: undefined,
      redisPrefix: 'datafor:',
    });
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
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['LOGIN_LOCK_DURATION', '0'],
    ['LOGIN_LOCK_MAX_DURATION', 'an hour'],
    ['LOGIN_LOCK_RESET', '2592001'],
    ['LOGIN_KNOWN_CLIENT_TTL', '-5'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_PREFIX', 'has space'],
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
