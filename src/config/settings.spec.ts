import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSettings, settingDefaults, type Settings, SettingsError } from './settings';

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
      errorStatus: 'http',
      tokenMaxExpire: 2592000,
      tokenMinSecretBytes: 0,
      tokenClockLeeway: 30,
      jwksMaxAge: 300,
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
      auditRetentionDays: 365,
      auditPruneInterval: 60,
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
      secretsKeyPrevious: undefined,
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
    ['SECRETS_KEY_PREVIOUS', 'too-short'],
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
    const run = () =>
      parseSettings({
        ADMIN_PASSWORD: 'short',
        SECRETS_KEY: 'not-a-key-value',
        SECRETS_KEY_PREVIOUS: 'old-key-value',
      });
    expect(run).toThrow(/ADMIN_PASSWORD must be at least 8 characters long/);
    expect(run).toThrow(/SECRETS_KEY_PREVIOUS must be 32 bytes/);
    expect(run).not.toThrow(/short"|not-a-key-value|old-key-value/);
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

const TRUST_PROXY_RULE =
  'TRUST_PROXY must be false, the number of reverse proxies in front of the service (1 to 100), ' +
  'or a comma-separated list of their addresses and CIDRs such as 10.0.0.0/8,127.0.0.1; ' +
  'true is refused because it would let any client choose its own address with X-Forwarded-For, ' +
  'and so is a list that covers all of IPv4 or all of IPv6';
const KEY = 'A'.repeat(42) + 'Q=';
const refusal = (...sentences: string[]) =>
  new SettingsError(`Invalid configuration: ${sentences.join('; ')}.`);

/**
 * Every variable, in the order its sentence comes in an error: its key in Settings, its value when
 * unset, and one value accepted (surrounding blanks included where they are ignored) with what it
 * reads as.
 */
const VARIABLES: [string, string, unknown, string, unknown][] = [
  ['PORT', 'port', 3000, ' 08080 ', 8080],
  ['HOST', 'host', '0.0.0.0', ' ::1 ', '::1'],
  ['DATA_DIR', 'dataDir', './data', ' /var/lib/x ', '/var/lib/x'],
  ['DATABASE_URL', 'databaseUrl', undefined, ' postgresql://u@db/x ', 'postgresql://u@db/x'],
  ['DB_POOL_MAX', 'dbPoolMax', 10, '1000', 1000],
  ['SQLITE_SYNCHRONOUS', 'sqliteSynchronous', 'full', ' Normal ', 'normal'],
  ['DB_CONNECT_TIMEOUT', 'dbConnectTimeout', 3, '600', 600],
  ['DB_QUERY_TIMEOUT', 'dbQueryTimeout', 5, '1', 1],
  ['DB_KEEPALIVE_IDLE', 'dbKeepaliveIdle', 30, '7200', 7200],
  ['ADMIN_USERNAME', 'adminUsername', 'admin', ' Ame\u0301lie ', 'Am\u00e9lie'],
  ['ADMIN_PASSWORD', 'adminPassword', undefined, ' 8 chars ', ' 8 chars '],
  ['LOG_LEVEL', 'logLevel', 'info', ' WARN ', 'warn'],
  ['BODY_LIMIT', 'bodyLimit', 65536, '1024', 1024],
  ['BASE_PATH', 'basePath', undefined, ' /datafor/reports/ ', '/datafor/reports'],
  ['ERROR_STATUS', 'errorStatus', 'http', ' 200 ', '200'],
  ['TOKEN_MAX_EXPIRE', 'tokenMaxExpire', 2592000, '315360000', 315360000],
  ['TOKEN_MIN_SECRET_BYTES', 'tokenMinSecretBytes', 0, '1024', 1024],
  ['TOKEN_CLOCK_LEEWAY', 'tokenClockLeeway', 30, '0', 0],
  ['JWKS_MAX_AGE', 'jwksMaxAge', 300, '0', 0],
  ['SESSION_TTL', 'sessionTtl', 28800, '60', 60],
  ['AUTH_CACHE_TTL', 'authCacheTtl', 60, '0', 0],
  ['RATE_LIMIT_MAX', 'rateLimitMax', 1200, '0', 0],
  ['RATE_LIMIT_WINDOW', 'rateLimitWindow', 60, '86400', 86400],
  ['LOGIN_MAX_FAILURES', 'loginMaxFailures', 10, '0', 0],
  ['LOGIN_FAILURE_WINDOW', 'loginFailureWindow', 900, '1', 1],
  ['LOGIN_LOCK_DURATION', 'loginLockDuration', 60, '86400', 86400],
  ['LOGIN_LOCK_MAX_DURATION', 'loginLockMaxDuration', 3600, '604800', 604800],
  ['LOGIN_LOCK_RESET', 'loginLockReset', 86400, '2592000', 2592000],
  ['LOGIN_KNOWN_CLIENT_TTL', 'loginKnownClientTtl', 2592000, '0', 0],
  ['AUDIT_RETENTION_DAYS', 'auditRetentionDays', 365, '0', 0],
  ['AUDIT_PRUNE_INTERVAL', 'auditPruneInterval', 60, '86400', 86400],
  ['PASSWORD_HASH_CONCURRENCY', 'passwordHashConcurrency', availableParallelism(), '256', 256],
  ['PASSWORD_HASH_QUEUE', 'passwordHashQueue', 16, '10000', 10000],
  [
    'CORS_ORIGINS',
    'corsOrigins',
    [],
    ' https://App.Example.com/ , http://localhost:8080 ',
    ['https://app.example.com', 'http://localhost:8080'],
  ],
  ['COOKIE_SECURE', 'cookieSecure', false, ' Yes ', true],
  ['TRUST_PROXY', 'trustProxy', false, ' 10.0.0.0/8, 127.0.0.1 ', ['10.0.0.0/8', '127.0.0.1']],
  ['SHUTDOWN_DRAIN', 'shutdownDrain', 0, '300', 300],
  ['SHUTDOWN_TIMEOUT', 'shutdownTimeout', 10, '600', 600],
  ['HTTP_HEADERS_TIMEOUT', 'httpHeadersTimeout', 10, '30', 30],
  ['HTTP_REQUEST_TIMEOUT', 'httpRequestTimeout', 30, '3600', 3600],
  ['HTTP_KEEPALIVE_TIMEOUT', 'httpKeepaliveTimeout', 72, '1', 1],
  ['HTTP_MAX_CONNECTIONS_PER_ADDRESS', 'httpMaxConnectionsPerAddress', 100, '0', 0],
  ['METRICS_PORT', 'metricsPort', undefined, ' 9464 ', 9464],
  [
    'METRICS_TOKEN',
    'metricsToken',
    undefined,
    'scrape-token-0123456789',
    'scrape-token-0123456789',
  ],
  ['REDIS_URL', 'redisUrl', undefined, ' rediss://cache:6380 ', 'rediss://cache:6380'],
  ['REDIS_PREFIX', 'redisPrefix', 'datafor:', ' tokens: ', 'tokens:'],
  ['REDIS_COMMAND_TIMEOUT', 'redisCommandTimeout', 50, '10000', 10000],
  ['SECRETS_KEY', 'secretsKey', undefined, ` ${KEY} `, KEY],
  ['SECRETS_KEY_PREVIOUS', 'secretsKeyPrevious', undefined, ` ${KEY} `, KEY],
  ['SECURITY_HEADERS_TLS', 'securityHeadersTls', 'auto', ' Always ', 'always'],
];

const AUDIT_RETENTION_RULE =
  'AUDIT_RETENTION_DAYS must be a number of days from 0 (keep every row) to 36500, and unless 0 cover LOGIN_KNOWN_CLIENT_TTL (known clients are read from the audit trail)';

/** One value each variable refuses, and the whole sentence it gets. */
const REFUSED: Record<string, [string, string]> = {
  PORT: ['0', 'PORT must be an integer from 1 to 65535'],
  HOST: ['my host', 'HOST must be a host name or an IP address'],
  DATA_DIR: [' ', 'DATA_DIR must be a directory path'],
  DATABASE_URL: [
    'mysql://x',
    'DATABASE_URL must be a postgres:// or postgresql:// URL (leave it unset for SQLite)',
  ],
  DB_POOL_MAX: ['1001', 'DB_POOL_MAX must be a number of connections from 1 to 1000'],
  SQLITE_SYNCHRONOUS: [
    'off',
    'SQLITE_SYNCHRONOUS must be full (every commit synced to disk) or normal (synced at checkpoints)',
  ],
  DB_CONNECT_TIMEOUT: ['601', 'DB_CONNECT_TIMEOUT must be a number of seconds from 1 to 600'],
  DB_QUERY_TIMEOUT: ['0', 'DB_QUERY_TIMEOUT must be a number of seconds from 1 to 3600'],
  DB_KEEPALIVE_IDLE: ['7201', 'DB_KEEPALIVE_IDLE must be a number of seconds from 1 to 7200'],
  ADMIN_USERNAME: [
    'with:colon',
    'ADMIN_USERNAME must be 1 to 128 characters without spaces or colons',
  ],
  ADMIN_PASSWORD: ['short', 'ADMIN_PASSWORD must be at least 8 characters long'],
  LOG_LEVEL: ['loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
  BODY_LIMIT: ['1023', 'BODY_LIMIT must be a byte count from 1024 to 10485760'],
  BASE_PATH: ['/', 'BASE_PATH must be a path such as /datafor'],
  ERROR_STATUS: [
    '400',
    'ERROR_STATUS must be http (errors answer with their status) or 200 (errors answer 200, the status in code)',
  ],
  TOKEN_MAX_EXPIRE: [
    '315360001',
    'TOKEN_MAX_EXPIRE must be a number of seconds from 1 to 315360000',
  ],
  TOKEN_MIN_SECRET_BYTES: ['1025', 'TOKEN_MIN_SECRET_BYTES must be an integer from 0 to 1024'],
  TOKEN_CLOCK_LEEWAY: ['301', 'TOKEN_CLOCK_LEEWAY must be a number of seconds from 0 to 300'],
  JWKS_MAX_AGE: ['86401', 'JWKS_MAX_AGE must be a number of seconds from 0 to 86400'],
  SESSION_TTL: ['59', 'SESSION_TTL must be a number of seconds from 60 to 2592000'],
  AUTH_CACHE_TTL: ['3601', 'AUTH_CACHE_TTL must be a number of seconds from 0 to 3600'],
  RATE_LIMIT_MAX: [
    '100000001',
    'RATE_LIMIT_MAX must be a number of requests from 0 (off) to 100000000',
  ],
  RATE_LIMIT_WINDOW: ['0', 'RATE_LIMIT_WINDOW must be a number of seconds from 1 to 86400'],
  LOGIN_MAX_FAILURES: ['1001', 'LOGIN_MAX_FAILURES must be a number from 0 (off) to 1000'],
  LOGIN_FAILURE_WINDOW: [
    '86401',
    'LOGIN_FAILURE_WINDOW must be a number of seconds from 1 to 86400',
  ],
  LOGIN_LOCK_DURATION: ['0', 'LOGIN_LOCK_DURATION must be a number of seconds from 1 to 86400'],
  LOGIN_LOCK_MAX_DURATION: [
    '604801',
    'LOGIN_LOCK_MAX_DURATION must be a number of seconds from 1 to 604800',
  ],
  LOGIN_LOCK_RESET: ['2592001', 'LOGIN_LOCK_RESET must be a number of seconds from 1 to 2592000'],
  LOGIN_KNOWN_CLIENT_TTL: [
    '31536001',
    'LOGIN_KNOWN_CLIENT_TTL must be a number of seconds from 0 (off) to 31536000',
  ],
  AUDIT_RETENTION_DAYS: ['36501', AUDIT_RETENTION_RULE],
  AUDIT_PRUNE_INTERVAL: ['0', 'AUDIT_PRUNE_INTERVAL must be a number of seconds from 1 to 86400'],
  PASSWORD_HASH_CONCURRENCY: [
    '257',
    'PASSWORD_HASH_CONCURRENCY must be a number of password checks from 0 (one per core) to 256',
  ],
  PASSWORD_HASH_QUEUE: ['0', 'PASSWORD_HASH_QUEUE must be a number of sign-ins from 1 to 10000'],
  CORS_ORIGINS: [
    'erp.example.com',
    'CORS_ORIGINS must be a comma-separated list of origins such as https://erp.example.com (scheme, host and port only)',
  ],
  COOKIE_SECURE: ['maybe', 'COOKIE_SECURE must be true or false'],
  TRUST_PROXY: ['true', TRUST_PROXY_RULE],
  SHUTDOWN_DRAIN: ['301', 'SHUTDOWN_DRAIN must be a number of seconds from 0 to 300'],
  SHUTDOWN_TIMEOUT: ['0', 'SHUTDOWN_TIMEOUT must be a number of seconds from 1 to 600'],
  HTTP_HEADERS_TIMEOUT: ['0', 'HTTP_HEADERS_TIMEOUT must be a number of seconds from 1 to 300'],
  HTTP_REQUEST_TIMEOUT: [
    '3601',
    'HTTP_REQUEST_TIMEOUT must be a number of seconds from 1 to 3600, at least HTTP_HEADERS_TIMEOUT',
  ],
  HTTP_KEEPALIVE_TIMEOUT: [
    '3601',
    'HTTP_KEEPALIVE_TIMEOUT must be a number of seconds from 1 to 3600',
  ],
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: [
    '100001',
    'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be a number of connections from 0 (off) to 100000',
  ],
  METRICS_PORT: ['65536', 'METRICS_PORT must be an integer from 1 to 65535, other than PORT'],
  METRICS_TOKEN: [
    ' scrape-token-0123456789',
    'METRICS_TOKEN must be 16 to 256 printable characters without spaces',
  ],
  REDIS_URL: [
    'http://127.0.0.1:6379',
    'REDIS_URL must be a redis:// or rediss:// URL (leave it unset to keep limits per instance)',
  ],
  REDIS_PREFIX: ['has space', 'REDIS_PREFIX must be 1 to 64 of A-Z a-z 0-9 : . _ -'],
  REDIS_COMMAND_TIMEOUT: [
    '4',
    'REDIS_COMMAND_TIMEOUT must be a number of milliseconds from 5 to 10000',
  ],
  SECRETS_KEY: [
    'too-short',
    'SECRETS_KEY must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)',
  ],
  SECRETS_KEY_PREVIOUS: [
    'too-short',
    'SECRETS_KEY_PREVIOUS must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)',
  ],
  SECURITY_HEADERS_TLS: [
    'yes',
    'SECURITY_HEADERS_TLS must be auto (on requests that came over TLS) or always',
  ],
};

/** A value of blanks only: read as unset by these, refused by every other variable with its sentence. */
const BLANK_IS_UNSET = [
  'DATABASE_URL',
  'BASE_PATH',
  'CORS_ORIGINS',
  'REDIS_URL',
  'SECRETS_KEY',
  'SECRETS_KEY_PREVIOUS',
];
/** Blanks refused with another sentence than the row's. */
const BLANK_SENTENCES: Record<string, string> = {
  ADMIN_USERNAME: 'ADMIN_USERNAME must be a username',
};

describe('every variable', () => {
  it('lists every variable the service reads, in the order of its sentences', () => {
    expect(VARIABLES.map(([name]) => name)).toEqual(Object.keys(settingDefaults()));
    expect(Object.keys(REFUSED)).toEqual(Object.keys(settingDefaults()));
    expect(VARIABLES.map(([, key]) => key).sort()).toEqual(Object.keys(parseSettings({})).sort());
  });

  it.each(VARIABLES)('%s: %s defaults to %p, unset or empty', (name, key, fallback) => {
    expect(parseSettings({})[key as keyof Settings]).toEqual(fallback);
    expect(parseSettings({ [name]: '' })[key as keyof Settings]).toEqual(fallback);
  });

  it.each(VARIABLES)('%s: %s reads %p as %p', (name, key, _fallback, accepted, value) => {
    expect(parseSettings({ [name]: accepted as string })[key as keyof Settings]).toEqual(value);
  });

  it.each(Object.entries(REFUSED))(
    '%s refuses %p with its one sentence',
    (name, [value, sentence]) => {
      expect(() => parseSettings({ [name]: value })).toThrow(refusal(sentence));
    },
  );

  it.each(VARIABLES)('%s given blanks only', (name, key) => {
    const run = () => parseSettings({ [name]: '   ' });
    if (BLANK_IS_UNSET.includes(name)) {
      expect(run()[key as keyof Settings]).toEqual(name === 'CORS_ORIGINS' ? [] : undefined);
    } else {
      expect(run).toThrow(refusal(BLANK_SENTENCES[name] ?? REFUSED[name][1]));
    }
  });

  it('gives the defaults as written in the environment', () => {
    expect(settingDefaults()).toEqual({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      DATABASE_URL: undefined,
      DB_POOL_MAX: 10,
      SQLITE_SYNCHRONOUS: 'full',
      DB_CONNECT_TIMEOUT: 3,
      DB_QUERY_TIMEOUT: 5,
      DB_KEEPALIVE_IDLE: 30,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: undefined,
      LOG_LEVEL: 'info',
      BODY_LIMIT: 65536,
      BASE_PATH: undefined,
      ERROR_STATUS: 'http',
      TOKEN_MAX_EXPIRE: 2592000,
      TOKEN_MIN_SECRET_BYTES: 0,
      TOKEN_CLOCK_LEEWAY: 30,
      JWKS_MAX_AGE: 300,
      SESSION_TTL: 28800,
      AUTH_CACHE_TTL: 60,
      RATE_LIMIT_MAX: 1200,
      RATE_LIMIT_WINDOW: 60,
      LOGIN_MAX_FAILURES: 10,
      LOGIN_FAILURE_WINDOW: 900,
      LOGIN_LOCK_DURATION: 60,
      LOGIN_LOCK_MAX_DURATION: 3600,
      LOGIN_LOCK_RESET: 86400,
      LOGIN_KNOWN_CLIENT_TTL: 2592000,
      AUDIT_RETENTION_DAYS: 365,
      AUDIT_PRUNE_INTERVAL: 60,
      PASSWORD_HASH_CONCURRENCY: 0,
      PASSWORD_HASH_QUEUE: 16,
      CORS_ORIGINS: undefined,
      COOKIE_SECURE: false,
      TRUST_PROXY: 'false',
      SHUTDOWN_DRAIN: 0,
      SHUTDOWN_TIMEOUT: 10,
      HTTP_HEADERS_TIMEOUT: 10,
      HTTP_REQUEST_TIMEOUT: 30,
      HTTP_KEEPALIVE_TIMEOUT: 72,
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: 100,
      METRICS_PORT: undefined,
      METRICS_TOKEN: undefined,
      REDIS_URL: undefined,
      REDIS_PREFIX: 'datafor:',
      REDIS_COMMAND_TIMEOUT: 50,
      SECRETS_KEY: undefined,
      SECRETS_KEY_PREVIOUS: undefined,
      SECURITY_HEADERS_TLS: 'auto',
    });
  });

  it.each([
    ['PORT', '+80'],
    ['PORT', '80.0'],
    ['PORT', '1e3'],
    ['PORT', '0x50'],
    ['PORT', '99999999999999999999'],
  ])('reads %s %p as no whole number', (name, value) => {
    expect(() => parseSettings({ [name]: value })).toThrow(
      refusal('PORT must be an integer from 1 to 65535'),
    );
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['No', false],
    ['0', false],
  ])('reads COOKIE_SECURE %p as %p', (value, expected) => {
    expect(parseSettings({ COOKIE_SECURE: value }).cookieSecure).toBe(expected);
  });

  it('reads PASSWORD_HASH_CONCURRENCY=0 as one per core', () => {
    expect(parseSettings({ PASSWORD_HASH_CONCURRENCY: '0' }).passwordHashConcurrency).toBe(
      availableParallelism(),
    );
  });

  it.each([
    ['zero\u200bwidth', 'ADMIN_USERNAME must not contain control or format characters'],
    ['lone\ud800surrogate', 'ADMIN_USERNAME must be well-formed Unicode (no lone surrogates)'],
  ])('refuses ADMIN_USERNAME %p with the sentence naming its problem', (value, sentence) => {
    expect(() => parseSettings({ ADMIN_USERNAME: value })).toThrow(refusal(sentence));
  });

  it('counts ADMIN_PASSWORD in characters as class-validator does (pairs and variation selectors)', () => {
    expect(parseSettings({ ADMIN_PASSWORD: 'abcdefg\u{1F600}' }).adminPassword).toBe(
      'abcdefg\u{1F600}',
    );
    for (const value of ['abcdef\u{1F600}', 'abcdefg\uFE0F']) {
      expect(() => parseSettings({ ADMIN_PASSWORD: value })).toThrow(
        refusal('ADMIN_PASSWORD must be at least 8 characters long'),
      );
    }
    expect(parseSettings({ ADMIN_PASSWORD: 'x'.repeat(256) }).adminPassword).toHaveLength(256);
    expect(() => parseSettings({ ADMIN_PASSWORD: 'x'.repeat(257) })).toThrow(
      refusal('ADMIN_PASSWORD must be at most 256 characters long'),
    );
  });

  it('refuses HTTP_REQUEST_TIMEOUT below HTTP_HEADERS_TIMEOUT, its default included', () => {
    const rule =
      'HTTP_REQUEST_TIMEOUT must be a number of seconds from 1 to 3600, at least HTTP_HEADERS_TIMEOUT';
    expect(() => parseSettings({ HTTP_HEADERS_TIMEOUT: '60' })).toThrow(refusal(rule));
    expect(() => parseSettings({ HTTP_HEADERS_TIMEOUT: '60', HTTP_REQUEST_TIMEOUT: '59' })).toThrow(
      refusal(rule),
    );
    expect(parseSettings({ HTTP_HEADERS_TIMEOUT: '60', HTTP_REQUEST_TIMEOUT: '60' })).toMatchObject(
      { httpHeadersTimeout: 60, httpRequestTimeout: 60 },
    );
  });

  it.each(['301', 'abc', '0'])(
    'compares HTTP_REQUEST_TIMEOUT with a valid HTTP_HEADERS_TIMEOUT only (not %p)',
    (value) => {
      expect(() => parseSettings({ HTTP_HEADERS_TIMEOUT: value })).toThrow(
        refusal('HTTP_HEADERS_TIMEOUT must be a number of seconds from 1 to 300'),
      );
    },
  );

  it('refuses METRICS_PORT equal to PORT only when PORT is valid', () => {
    expect(() => parseSettings({ PORT: '+9464', METRICS_PORT: '9464' })).toThrow(
      refusal('PORT must be an integer from 1 to 65535'),
    );
    expect(() => parseSettings({ PORT: '09464', METRICS_PORT: '9464' })).toThrow(
      refusal('METRICS_PORT must be an integer from 1 to 65535, other than PORT'),
    );
  });

  it('refuses an AUDIT_RETENTION_DAYS that would prune known clients, unless it is 0', () => {
    expect(() => parseSettings({ AUDIT_RETENTION_DAYS: '29' })).toThrow(
      refusal(AUDIT_RETENTION_RULE),
    );
    expect(parseSettings({ AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    expect(
      parseSettings({ AUDIT_RETENTION_DAYS: '1', LOGIN_KNOWN_CLIENT_TTL: '86400' })
        .auditRetentionDays,
    ).toBe(1);
    expect(
      parseSettings({ AUDIT_RETENTION_DAYS: '0', LOGIN_KNOWN_CLIENT_TTL: '31536000' })
        .auditRetentionDays,
    ).toBe(0);
    expect(() =>
      parseSettings({ AUDIT_RETENTION_DAYS: '364', LOGIN_KNOWN_CLIENT_TTL: '31536000' }),
    ).toThrow(refusal(AUDIT_RETENTION_RULE));
  });

  it('names every refused variable once, in the order of the list, without their values', () => {
    expect(() =>
      parseSettings({
        SECURITY_HEADERS_TLS: 'yes',
        METRICS_TOKEN: 'short',
        HTTP_REQUEST_TIMEOUT: '5',
        ADMIN_PASSWORD: 'a',
        PORT: 'x',
      }),
    ).toThrow(
      refusal(
        'PORT must be an integer from 1 to 65535',
        'ADMIN_PASSWORD must be at least 8 characters long',
        'HTTP_REQUEST_TIMEOUT must be a number of seconds from 1 to 3600, at least HTTP_HEADERS_TIMEOUT',
        'METRICS_TOKEN must be 16 to 256 printable characters without spaces',
        'SECURITY_HEADERS_TLS must be auto (on requests that came over TLS) or always',
      ),
    );
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

describe('docs/configuration.md', () => {
  const text = readFileSync(resolve(process.cwd(), 'docs/configuration.md'), 'utf8');
  /** The table's rows: `NAME` and its default (`value`, or none when unset by default). */
  const documented = new Map(
    [...text.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (?:`([^`]*)`|(none)) \|/gm)].map((match) => [
      match[1],
      match[3] === undefined ? match[2] : undefined,
    ]),
  );

  it.each(Object.entries(settingDefaults()))('lists %s with its default', (name, fallback) => {
    expect(documented.has(name)).toBe(true);
    expect(documented.get(name)).toBe(fallback === undefined ? undefined : String(fallback));
  });

  it('lists no setting the service does not read', () => {
    expect([...documented.keys()].filter((name) => !(name in settingDefaults()))).toEqual([]);
  });
});
