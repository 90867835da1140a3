import { availableParallelism } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';
import { parseCorsOrigins } from './cors-origins';
import { MAX_PROXY_HOPS, parseTrustProxy, type TrustProxy } from './trust-proxy';
import { usernameProblem } from '../../common/validation/username';

const PASSWORD_HASH_CONCURRENCY_RANGE =
  'PASSWORD_HASH_CONCURRENCY must be a number of password checks from 0 (one per core) to 256';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())
    ? true
    : typeof value === 'string' && /^(false|0|no)$/i.test(value.trim())
      ? false
      : value;
const toTrimmed = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** When the TLS-only headers (HSTS, upgrade-insecure-requests) go out: on TLS requests, or on every one. */
export const SECURITY_HEADERS_TLS_MODES = ['auto', 'always'] as const;
export type SecurityHeadersTlsMode = (typeof SECURITY_HEADERS_TLS_MODES)[number];
export const SQLITE_SYNCHRONOUS_MODES = ['full', 'normal'] as const;
export type SqliteSynchronousMode = (typeof SQLITE_SYNCHRONOUS_MODES)[number];

const HTTP_REQUEST_TIMEOUT_RULE =
  'HTTP_REQUEST_TIMEOUT must be a number of seconds from 1 to 3600, at least HTTP_HEADERS_TIMEOUT';
const HTTP_MAX_CONNECTIONS_RULE =
  'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be a number of connections from 0 (off) to 100000';

/**
 * The service's environment, validated once at start-up. Each rule's message names the variable
 * and never repeats its value (ADMIN_PASSWORD and SECRETS_KEY are secrets).
 */
class EnvironmentVariables {
  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer from 1 to 65535' })
  @Min(1, { message: 'PORT must be an integer from 1 to 65535' })
  @Max(65535, { message: 'PORT must be an integer from 1 to 65535' })
  PORT = 3000;

  @Transform(toTrimmed)
  @IsString()
  @Matches(/^[A-Za-z0-9.:[\]-]+$/, { message: 'HOST must be a host name or an IP address' })
  HOST = '0.0.0.0';

  @Transform(toTrimmed)
  @IsString({ message: 'DATA_DIR must be a directory path' })
  DATA_DIR = './data';

  @Transform(toTrimmed)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// URL (leave it unset for SQLite)',
  })
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt({ message: 'DB_POOL_MAX must be a number of connections from 1 to 1000' })
  @Min(1, { message: 'DB_POOL_MAX must be a number of connections from 1 to 1000' })
  @Max(1000, { message: 'DB_POOL_MAX must be a number of connections from 1 to 1000' })
  DB_POOL_MAX = 10;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(SQLITE_SYNCHRONOUS_MODES, {
    message:
      'SQLITE_SYNCHRONOUS must be full (every commit synced to disk) or normal (synced at checkpoints)',
  })
  SQLITE_SYNCHRONOUS: SqliteSynchronousMode = 'full';

  @Transform(toInt)
  @IsInt({ message: 'DB_CONNECT_TIMEOUT must be a number of seconds from 1 to 600' })
  @Min(1, { message: 'DB_CONNECT_TIMEOUT must be a number of seconds from 1 to 600' })
  @Max(600, { message: 'DB_CONNECT_TIMEOUT must be a number of seconds from 1 to 600' })
  DB_CONNECT_TIMEOUT = 3;

  @Transform(toInt)
  @IsInt({ message: 'DB_QUERY_TIMEOUT must be a number of seconds from 1 to 3600' })
  @Min(1, { message: 'DB_QUERY_TIMEOUT must be a number of seconds from 1 to 3600' })
  @Max(3600, { message: 'DB_QUERY_TIMEOUT must be a number of seconds from 1 to 3600' })
  DB_QUERY_TIMEOUT = 5;

  @Transform(toInt)
  @IsInt({ message: 'DB_KEEPALIVE_IDLE must be a number of seconds from 1 to 7200' })
  @Min(1, { message: 'DB_KEEPALIVE_IDLE must be a number of seconds from 1 to 7200' })
  @Max(7200, { message: 'DB_KEEPALIVE_IDLE must be a number of seconds from 1 to 7200' })
  DB_KEEPALIVE_IDLE = 30;

  @Transform(({ value }) => {
    const trimmed = toTrimmed({ value });
    return typeof trimmed === 'string' ? trimmed.normalize('NFC') : trimmed;
  })
  @ValidateBy({
    name: 'isUsername',
    validator: {
      validate: (value) => typeof value === 'string' && usernameProblem(value) === undefined,
      defaultMessage: (args) =>
        `ADMIN_USERNAME ${(typeof args?.value === 'string' && usernameProblem(args.value)) || 'must be a username'}`,
    },
  })
  ADMIN_USERNAME = 'admin';

  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'ADMIN_PASSWORD must be at least 8 characters long' })
  @MaxLength(256, { message: 'ADMIN_PASSWORD must be at most 256 characters long' })
  ADMIN_PASSWORD?: string;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @Transform(toInt)
  @IsInt({ message: 'BODY_LIMIT must be a byte count from 1024 to 10485760' })
  @Min(1024, { message: 'BODY_LIMIT must be a byte count from 1024 to 10485760' })
  @Max(10485760, { message: 'BODY_LIMIT must be a byte count from 1024 to 10485760' })
  BODY_LIMIT = 65536;

  @Transform(toTrimmed)
  @IsOptional()
  @Matches(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/, {
    message: 'BASE_PATH must be a path such as /datafor',
  })
  BASE_PATH?: string;

  @Transform(toInt)
  @IsInt({ message: 'TOKEN_MAX_EXPIRE must be a number of seconds from 1 to 315360000' })
  @Min(1, { message: 'TOKEN_MAX_EXPIRE must be a number of seconds from 1 to 315360000' })
  @Max(315360000, { message: 'TOKEN_MAX_EXPIRE must be a number of seconds from 1 to 315360000' })
  TOKEN_MAX_EXPIRE = 2592000;

  @Transform(toInt)
  @IsInt({ message: 'TOKEN_MIN_SECRET_BYTES must be an integer from 0 to 1024' })
  @Min(0, { message: 'TOKEN_MIN_SECRET_BYTES must be an integer from 0 to 1024' })
  @Max(1024, { message: 'TOKEN_MIN_SECRET_BYTES must be an integer from 0 to 1024' })
  TOKEN_MIN_SECRET_BYTES = 0;

  @Transform(toInt)
  @IsInt({ message: 'TOKEN_CLOCK_LEEWAY must be a number of seconds from 0 to 300' })
  @Min(0, { message: 'TOKEN_CLOCK_LEEWAY must be a number of seconds from 0 to 300' })
  @Max(300, { message: 'TOKEN_CLOCK_LEEWAY must be a number of seconds from 0 to 300' })
  TOKEN_CLOCK_LEEWAY = 30;

  @Transform(toInt)
  @IsInt({ message: 'SESSION_TTL must be a number of seconds from 60 to 2592000' })
  @Min(60, { message: 'SESSION_TTL must be a number of seconds from 60 to 2592000' })
  @Max(2592000, { message: 'SESSION_TTL must be a number of seconds from 60 to 2592000' })
  SESSION_TTL = 28800;

  @Transform(toInt)
  @IsInt({ message: 'AUTH_CACHE_TTL must be a number of seconds from 0 to 3600' })
  @Min(0, { message: 'AUTH_CACHE_TTL must be a number of seconds from 0 to 3600' })
  @Max(3600, { message: 'AUTH_CACHE_TTL must be a number of seconds from 0 to 3600' })
  AUTH_CACHE_TTL = 60;

  @Transform(toInt)
  @IsInt({ message: 'RATE_LIMIT_MAX must be a number of requests from 0 (off) to 100000000' })
  @Min(0, { message: 'RATE_LIMIT_MAX must be a number of requests from 0 (off) to 100000000' })
  @Max(100000000, {
    message: 'RATE_LIMIT_MAX must be a number of requests from 0 (off) to 100000000',
  })
  RATE_LIMIT_MAX = 1200;

  @Transform(toInt)
  @IsInt({ message: 'RATE_LIMIT_WINDOW must be a number of seconds from 1 to 86400' })
  @Min(1, { message: 'RATE_LIMIT_WINDOW must be a number of seconds from 1 to 86400' })
  @Max(86400, { message: 'RATE_LIMIT_WINDOW must be a number of seconds from 1 to 86400' })
  RATE_LIMIT_WINDOW = 60;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_MAX_FAILURES must be a number from 0 (off) to 1000' })
  @Min(0, { message: 'LOGIN_MAX_FAILURES must be a number from 0 (off) to 1000' })
  @Max(1000, { message: 'LOGIN_MAX_FAILURES must be a number from 0 (off) to 1000' })
  LOGIN_MAX_FAILURES = 10;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_FAILURE_WINDOW must be a number of seconds from 1 to 86400' })
  @Min(1, { message: 'LOGIN_FAILURE_WINDOW must be a number of seconds from 1 to 86400' })
  @Max(86400, { message: 'LOGIN_FAILURE_WINDOW must be a number of seconds from 1 to 86400' })
  LOGIN_FAILURE_WINDOW = 900;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_LOCK_DURATION must be a number of seconds from 1 to 86400' })
  @Min(1, { message: 'LOGIN_LOCK_DURATION must be a number of seconds from 1 to 86400' })
  @Max(86400, { message: 'LOGIN_LOCK_DURATION must be a number of seconds from 1 to 86400' })
  LOGIN_LOCK_DURATION = 60;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_LOCK_MAX_DURATION must be a number of seconds from 1 to 604800' })
  @Min(1, { message: 'LOGIN_LOCK_MAX_DURATION must be a number of seconds from 1 to 604800' })
  @Max(604800, { message: 'LOGIN_LOCK_MAX_DURATION must be a number of seconds from 1 to 604800' })
  LOGIN_LOCK_MAX_DURATION = 3600;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_LOCK_RESET must be a number of seconds from 1 to 2592000' })
  @Min(1, { message: 'LOGIN_LOCK_RESET must be a number of seconds from 1 to 2592000' })
  @Max(2592000, { message: 'LOGIN_LOCK_RESET must be a number of seconds from 1 to 2592000' })
  LOGIN_LOCK_RESET = 86400;

  @Transform(toInt)
  @IsInt({ message: 'LOGIN_KNOWN_CLIENT_TTL must be a number of seconds from 0 (off) to 31536000' })
  @Min(0, {
    message: 'LOGIN_KNOWN_CLIENT_TTL must be a number of seconds from 0 (off) to 31536000',
  })
  @Max(31536000, {
    message: 'LOGIN_KNOWN_CLIENT_TTL must be a number of seconds from 0 (off) to 31536000',
  })
  LOGIN_KNOWN_CLIENT_TTL = 2592000;

  @Transform(toInt)
  @IsInt({ message: PASSWORD_HASH_CONCURRENCY_RANGE })
  @Min(0, { message: PASSWORD_HASH_CONCURRENCY_RANGE })
  @Max(256, { message: PASSWORD_HASH_CONCURRENCY_RANGE })
  PASSWORD_HASH_CONCURRENCY = 0;

  @Transform(toInt)
  @IsInt({ message: 'PASSWORD_HASH_QUEUE must be a number of sign-ins from 1 to 10000' })
  @Min(1, { message: 'PASSWORD_HASH_QUEUE must be a number of sign-ins from 1 to 10000' })
  @Max(10000, { message: 'PASSWORD_HASH_QUEUE must be a number of sign-ins from 1 to 10000' })
  PASSWORD_HASH_QUEUE = 16;

  @Transform(toTrimmed)
  @IsOptional()
  @ValidateBy(
    {
      name: 'isCorsOrigins',
      validator: {
        validate: (value) => typeof value === 'string' && parseCorsOrigins(value) !== undefined,
      },
    },
    {
      message:
        'CORS_ORIGINS must be a comma-separated list of origins such as https://erp.example.com (scheme, host and port only)',
    },
  )
  CORS_ORIGINS?: string;

  @Transform(toBool)
  @IsBoolean({ message: 'COOKIE_SECURE must be true or false' })
  COOKIE_SECURE = false;

  // `true` is refused: it takes the left-most X-Forwarded-For, which any client writes itself.
  @Transform(toTrimmed)
  @ValidateBy(
    {
      name: 'isTrustProxy',
      validator: {
        validate: (value) => typeof value === 'string' && parseTrustProxy(value) !== undefined,
      },
    },
    {
      message:
        `TRUST_PROXY must be false, the number of reverse proxies in front of the service (1 to ${MAX_PROXY_HOPS}), ` +
        'or a comma-separated list of their addresses and CIDRs such as 10.0.0.0/8,127.0.0.1; ' +
        'true is refused because it would let any client choose its own address with X-Forwarded-For, ' +
        'and so is a list that covers all of IPv4 or all of IPv6',
    },
  )
  TRUST_PROXY = 'false';

  @Transform(toInt)
  @IsInt({ message: 'SHUTDOWN_DRAIN must be a number of seconds from 0 to 300' })
  @Min(0, { message: 'SHUTDOWN_DRAIN must be a number of seconds from 0 to 300' })
  @Max(300, { message: 'SHUTDOWN_DRAIN must be a number of seconds from 0 to 300' })
  SHUTDOWN_DRAIN = 0;

  @Transform(toInt)
  @IsInt({ message: 'SHUTDOWN_TIMEOUT must be a number of seconds from 1 to 600' })
  @Min(1, { message: 'SHUTDOWN_TIMEOUT must be a number of seconds from 1 to 600' })
  @Max(600, { message: 'SHUTDOWN_TIMEOUT must be a number of seconds from 1 to 600' })
  SHUTDOWN_TIMEOUT = 10;

  @Transform(toInt)
  @IsInt({ message: 'HTTP_HEADERS_TIMEOUT must be a number of seconds from 1 to 300' })
  @Min(1, { message: 'HTTP_HEADERS_TIMEOUT must be a number of seconds from 1 to 300' })
  @Max(300, { message: 'HTTP_HEADERS_TIMEOUT must be a number of seconds from 1 to 300' })
  HTTP_HEADERS_TIMEOUT = 10;

  @Transform(toInt)
  @IsInt({ message: HTTP_REQUEST_TIMEOUT_RULE })
  @Min(1, { message: HTTP_REQUEST_TIMEOUT_RULE })
  @Max(3600, { message: HTTP_REQUEST_TIMEOUT_RULE })
  @ValidateBy(
    {
      name: 'isNotBelowHeadersTimeout',
      validator: {
        validate: (value, args) =>
          typeof value === 'number' &&
          value >= (args?.object as EnvironmentVariables).HTTP_HEADERS_TIMEOUT,
      },
    },
    { message: HTTP_REQUEST_TIMEOUT_RULE },
  )
  HTTP_REQUEST_TIMEOUT = 30;

  @Transform(toInt)
  @IsInt({ message: 'HTTP_KEEPALIVE_TIMEOUT must be a number of seconds from 1 to 3600' })
  @Min(1, { message: 'HTTP_KEEPALIVE_TIMEOUT must be a number of seconds from 1 to 3600' })
  @Max(3600, { message: 'HTTP_KEEPALIVE_TIMEOUT must be a number of seconds from 1 to 3600' })
  HTTP_KEEPALIVE_TIMEOUT = 72;

  @Transform(toInt)
  @IsInt({ message: HTTP_MAX_CONNECTIONS_RULE })
  @Min(0, { message: HTTP_MAX_CONNECTIONS_RULE })
  @Max(100000, { message: HTTP_MAX_CONNECTIONS_RULE })
  HTTP_MAX_CONNECTIONS_PER_ADDRESS = 100;

  @Transform(toInt)
  @IsOptional()
  @IsInt({ message: 'METRICS_PORT must be an integer from 1 to 65535, other than PORT' })
  @Min(1, { message: 'METRICS_PORT must be an integer from 1 to 65535, other than PORT' })
  @Max(65535, { message: 'METRICS_PORT must be an integer from 1 to 65535, other than PORT' })
  @ValidateBy(
    {
      name: 'isNotMainPort',
      validator: {
        validate: (value, args) => value !== (args?.object as EnvironmentVariables).PORT,
      },
    },
    { message: 'METRICS_PORT must be an integer from 1 to 65535, other than PORT' },
  )
  METRICS_PORT?: number;

  // Sent by Prometheus as `Authorization: Bearer ...`: printable, no spaces, long enough to guess at.
  @IsOptional()
  @Matches(/^[\x21-\x7e]{16,256}$/, {
    message: 'METRICS_TOKEN must be 16 to 256 printable characters without spaces',
  })
  METRICS_TOKEN?: string;
  // A secret-bearing URL (it may hold a password): validated, never repeated in a message or a log.
  @Transform(toTrimmed)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message:
      'REDIS_URL must be a redis:// or rediss:// URL (leave it unset to keep limits per instance)',
  })
  REDIS_URL?: string;

  @Transform(toTrimmed)
  @Matches(/^[A-Za-z0-9:._-]{1,64}$/, {
    message: 'REDIS_PREFIX must be 1 to 64 of A-Z a-z 0-9 : . _ -',
  })
  REDIS_PREFIX = 'datafor:';

  // Above a healthy round trip, far below what a sign-in may wait: a dead Redis costs this once.
  @Transform(toInt)
  @IsInt({ message: 'REDIS_COMMAND_TIMEOUT must be a number of milliseconds from 5 to 10000' })
  @Min(5, { message: 'REDIS_COMMAND_TIMEOUT must be a number of milliseconds from 5 to 10000' })
  @Max(10000, { message: 'REDIS_COMMAND_TIMEOUT must be a number of milliseconds from 5 to 10000' })
  REDIS_COMMAND_TIMEOUT = 50;

  @Transform(toTrimmed)
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message:
      'SECRETS_KEY must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)',
  })
  SECRETS_KEY?: string;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(SECURITY_HEADERS_TLS_MODES, {
    message: 'SECURITY_HEADERS_TLS must be auto (on requests that came over TLS) or always',
  })
  SECURITY_HEADERS_TLS: SecurityHeadersTlsMode = 'auto';
}

/** The validated, typed settings every other part of the service reads. */
export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL pool size, and its timeouts and TCP keepalive idle time in seconds. */
  dbPoolMax: number;
  /** SQLite: `full` syncs the WAL at every commit (survives a machine crash); `normal` at checkpoints. */
  sqliteSynchronous: SqliteSynchronousMode;
  dbConnectTimeout: number;
  dbQueryTimeout: number;
  dbKeepaliveIdle: number;
  adminUsername: string;
  adminPassword?: string;
  logLevel: LogLevel;
  bodyLimit: number;
  basePath?: string;
  tokenMaxExpire: number;
  tokenMinSecretBytes: number;
  tokenClockLeeway: number;
  sessionTtl: number;
  authCacheTtl: number;
  rateLimitMax: number;
  rateLimitWindow: number;
  loginMaxFailures: number;
  loginFailureWindow: number;
  loginLockDuration: number;
  loginLockMaxDuration: number;
  loginLockReset: number;
  loginKnownClientTtl: number;
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  /** Normalised as browsers send `Origin` (lower case, no trailing slash). */
  corsOrigins: string[];
  cookieSecure: boolean;
  trustProxy: TrustProxy;
  shutdownDrain: number;
  shutdownTimeout: number;
  /** Seconds a client gets to send a request's headers, and the whole request; an idle keep-alive lasts. */
  httpHeadersTimeout: number;
  httpRequestTimeout: number;
  httpKeepaliveTimeout: number;
  /** Open connections one peer address may hold (0: no limit); trusted proxies are not counted. */
  httpMaxConnectionsPerAddress: number;
  secretsKey?: string;
  /** `always` behind a TLS terminator whose X-Forwarded-Proto is not trusted or not sent. */
  securityHeadersTls: SecurityHeadersTlsMode;
  /** Serve /metrics on this port only (else on `port`); a bearer token required to read them. */
  metricsPort?: number;
  metricsToken?: string;
  /** Redis shared by every instance (rate limits, sign-in failures, change announcements). */
  redisUrl?: string;
  /** Prepended to every Redis key and channel name. */
  redisPrefix: string;
  /** Milliseconds a Redis command may take before it counts as unanswered. */
  redisCommandTimeout: number;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Every variable the service reads, with its default (undefined: unset by default). */
export function settingDefaults(): Record<string, string | number | boolean | undefined> {
  return { ...new EnvironmentVariables() };
}

/** Reads and validates the environment; throws a SettingsError naming every bad variable. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const known = Object.keys(new EnvironmentVariables());
  const raw = Object.fromEntries(
    Object.entries(env).filter(
      ([key, value]) => known.includes(key) && value !== undefined && value !== '',
    ),
  );
  const vars = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(vars, {
    forbidUnknownValues: true,
    validationError: { value: false },
  });
  if (errors.length > 0) {
    const sentences = errors.flatMap((error) => Object.values(error.constraints ?? {}));
    throw new SettingsError(`Invalid configuration: ${[...new Set(sentences)].join('; ')}.`);
  }
  return {
    port: vars.PORT,
    host: vars.HOST,
    dataDir: vars.DATA_DIR,
    databaseUrl: vars.DATABASE_URL,
    dbPoolMax: vars.DB_POOL_MAX,
    sqliteSynchronous: vars.SQLITE_SYNCHRONOUS,
    dbConnectTimeout: vars.DB_CONNECT_TIMEOUT,
    dbQueryTimeout: vars.DB_QUERY_TIMEOUT,
    dbKeepaliveIdle: vars.DB_KEEPALIVE_IDLE,
    adminUsername: vars.ADMIN_USERNAME,
    adminPassword: vars.ADMIN_PASSWORD,
    logLevel: vars.LOG_LEVEL,
    bodyLimit: vars.BODY_LIMIT,
    basePath: vars.BASE_PATH?.replace(/\/$/, ''),
    tokenMaxExpire: vars.TOKEN_MAX_EXPIRE,
    tokenMinSecretBytes: vars.TOKEN_MIN_SECRET_BYTES,
    tokenClockLeeway: vars.TOKEN_CLOCK_LEEWAY,
    sessionTtl: vars.SESSION_TTL,
    authCacheTtl: vars.AUTH_CACHE_TTL,
    rateLimitMax: vars.RATE_LIMIT_MAX,
    rateLimitWindow: vars.RATE_LIMIT_WINDOW,
    loginMaxFailures: vars.LOGIN_MAX_FAILURES,
    loginFailureWindow: vars.LOGIN_FAILURE_WINDOW,
    loginLockDuration: vars.LOGIN_LOCK_DURATION,
    loginLockMaxDuration: vars.LOGIN_LOCK_MAX_DURATION,
    loginLockReset: vars.LOGIN_LOCK_RESET,
    loginKnownClientTtl: vars.LOGIN_KNOWN_CLIENT_TTL,
    passwordHashConcurrency: vars.PASSWORD_HASH_CONCURRENCY || availableParallelism(),
    passwordHashQueue: vars.PASSWORD_HASH_QUEUE,
    corsOrigins: vars.CORS_ORIGINS ? (parseCorsOrigins(vars.CORS_ORIGINS) ?? []) : [],
    cookieSecure: vars.COOKIE_SECURE,
    trustProxy: parseTrustProxy(vars.TRUST_PROXY) ?? false,
    shutdownDrain: vars.SHUTDOWN_DRAIN,
    shutdownTimeout: vars.SHUTDOWN_TIMEOUT,
    httpHeadersTimeout: vars.HTTP_HEADERS_TIMEOUT,
    httpRequestTimeout: vars.HTTP_REQUEST_TIMEOUT,
    httpKeepaliveTimeout: vars.HTTP_KEEPALIVE_TIMEOUT,
    httpMaxConnectionsPerAddress: vars.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    secretsKey: vars.SECRETS_KEY,
    securityHeadersTls: vars.SECURITY_HEADERS_TLS,
    metricsPort: vars.METRICS_PORT,
    metricsToken: vars.METRICS_TOKEN,
    redisUrl: vars.REDIS_URL,
    redisPrefix: vars.REDIS_PREFIX,
    redisCommandTimeout: vars.REDIS_COMMAND_TIMEOUT,
  };
}
