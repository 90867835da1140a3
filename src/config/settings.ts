import { availableParallelism } from 'node:os';
import { maxLength, minLength } from 'class-validator';
import { parseCorsOrigins } from './cors-origins';
import { MAX_PROXY_HOPS, parseTrustProxy } from './trust-proxy';
import { ERROR_STATUS_MODES } from '../common/http/error-status';
import { usernameProblem } from '../common/validation/username';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** When the TLS-only headers (HSTS, upgrade-insecure-requests) go out: on TLS requests, or on every one. */
export const SECURITY_HEADERS_TLS_MODES = ['auto', 'always'] as const;
export type SecurityHeadersTlsMode = (typeof SECURITY_HEADERS_TLS_MODES)[number];
export const SQLITE_SYNCHRONOUS_MODES = ['full', 'normal'] as const;
export type SqliteSynchronousMode = (typeof SQLITE_SYNCHRONOUS_MODES)[number];

const TRUST_PROXY_RULE =
  `must be false, the number of reverse proxies in front of the service (1 to ${MAX_PROXY_HOPS}), ` +
  'or a comma-separated list of their addresses and CIDRs such as 10.0.0.0/8,127.0.0.1; ' +
  'true is refused because it would let any client choose its own address with X-Forwarded-For, ' +
  'and so is a list that covers all of IPv4 or all of IPv6';

/**
 * Every variable the service reads, validated once at start-up: its kind and default (undefined:
 * unset by default), then what it must be. A refused variable gets the sentence "NAME must be...",
 * which never repeats the value (ADMIN_PASSWORD and the SECRETS_KEYs are secrets); several come in this
 * order. Its key in Settings is its name in camelCase: HTTP_REQUEST_TIMEOUT is httpRequestTimeout.
 * The kinds (int, text...) are at the end of the file.
 */
const SETTINGS = {
  PORT: int(3000, [1, 65535], 'must be an integer from 1 to 65535'),
  HOST: text('0.0.0.0', /^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or an IP address'),
  DATA_DIR: text('./data', /./, 'must be a directory path'),
  DATABASE_URL: text(
    undefined,
    /^postgres(ql)?:\/\/\S+$/,
    'must be a postgres:// or postgresql:// URL (leave it unset for SQLite)',
  ),
  /** PostgreSQL pool size, and its timeouts and TCP keepalive idle time in seconds. */
  DB_POOL_MAX: int(10, [1, 1000], 'must be a number of connections from 1 to 1000'),
  /** SQLite: `full` syncs the WAL at every commit (survives a machine crash); `normal` at checkpoints. */
  SQLITE_SYNCHRONOUS: oneOf(
    'full',
    SQLITE_SYNCHRONOUS_MODES,
    'must be full (every commit synced to disk) or normal (synced at checkpoints)',
  ),
  DB_CONNECT_TIMEOUT: int(3, [1, 600], 'must be a number of seconds from 1 to 600'),
  DB_QUERY_TIMEOUT: int(5, [1, 3600], 'must be a number of seconds from 1 to 3600'),
  DB_KEEPALIVE_IDLE: int(30, [1, 7200], 'must be a number of seconds from 1 to 7200'),
  /** In NFC, the form every username is stored in; the sentence names the problem. */
  ADMIN_USERNAME: text(
    'admin',
    (name) => (usernameProblem(name.normalize('NFC')) ? undefined : name.normalize('NFC')),
    (name) => (name && usernameProblem(name.normalize('NFC'))) || 'must be a username',
  ),
  /** Taken as given; its length counted as class-validator counts it. */
  ADMIN_PASSWORD: verbatim(
    (password) => minLength(password, 8) && maxLength(password, 256),
    (password) =>
      minLength(password, 8)
        ? 'must be at most 256 characters long'
        : 'must be at least 8 characters long',
  ),
  LOG_LEVEL: oneOf('info', LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`),
  BODY_LIMIT: int(65536, [1024, 10485760], 'must be a byte count from 1024 to 10485760'),
  /** Read without its trailing slash. */
  BASE_PATH: text(
    undefined,
    (path) =>
      /^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/.test(path)
        ? path.replace(/\/$/, '')
        : undefined,
    'must be a path such as /datafor',
  ),
  /** `200` answers the Datafor API's errors with HTTP 200, `code` keeping the status (429, 5xx kept). */
  ERROR_STATUS: oneOf(
    'http',
    ERROR_STATUS_MODES,
    'must be http (errors answer with their status) or 200 (errors answer 200, the status in code)',
  ),
  TOKEN_MAX_EXPIRE: int(2592000, [1, 315360000], 'must be a number of seconds from 1 to 315360000'),
  TOKEN_MIN_SECRET_BYTES: int(0, [0, 1024], 'must be an integer from 0 to 1024'),
  TOKEN_CLOCK_LEEWAY: int(30, [0, 300], 'must be a number of seconds from 0 to 300'),
  /** The JWKS's Cache-Control max-age: a rotated service-held key is published this long before it signs. */
  JWKS_MAX_AGE: int(300, [0, 86400], 'must be a number of seconds from 0 to 86400'),
  SESSION_TTL: int(28800, [60, 2592000], 'must be a number of seconds from 60 to 2592000'),
  AUTH_CACHE_TTL: int(60, [0, 3600], 'must be a number of seconds from 0 to 3600'),
  RATE_LIMIT_MAX: int(
    1200,
    [0, 100000000],
    'must be a number of requests from 0 (off) to 100000000',
  ),
  RATE_LIMIT_WINDOW: int(60, [1, 86400], 'must be a number of seconds from 1 to 86400'),
  LOGIN_MAX_FAILURES: int(10, [0, 1000], 'must be a number from 0 (off) to 1000'),
  LOGIN_FAILURE_WINDOW: int(900, [1, 86400], 'must be a number of seconds from 1 to 86400'),
  LOGIN_LOCK_DURATION: int(60, [1, 86400], 'must be a number of seconds from 1 to 86400'),
  LOGIN_LOCK_MAX_DURATION: int(3600, [1, 604800], 'must be a number of seconds from 1 to 604800'),
  LOGIN_LOCK_RESET: int(86400, [1, 2592000], 'must be a number of seconds from 1 to 2592000'),
  LOGIN_KNOWN_CLIENT_TTL: int(
    2592000,
    [0, 31536000],
    'must be a number of seconds from 0 (off) to 31536000',
  ),
  /** Days an audit row is kept (0: every row); not fewer than known clients are read back for. */
  AUDIT_RETENTION_DAYS: int(
    365,
    [0, 36500],
    'must be a number of days from 0 (keep every row) to 36500, and unless 0 cover LOGIN_KNOWN_CLIENT_TTL (known clients are read from the audit trail)',
  ),
  /** Seconds between two passes of the audit pruning. */
  AUDIT_PRUNE_INTERVAL: int(60, [1, 86400], 'must be a number of seconds from 1 to 86400'),
  /** 0 reads as one per core. */
  PASSWORD_HASH_CONCURRENCY: mapped(
    int(0, [0, 256], 'must be a number of password checks from 0 (one per core) to 256'),
    (count) => count || availableParallelism(),
  ),
  PASSWORD_HASH_QUEUE: int(16, [1, 10000], 'must be a number of sign-ins from 1 to 10000'),
  /** Read as browsers send `Origin` (lower case, no trailing slash); unset: none. */
  CORS_ORIGINS: text(
    undefined,
    parseCorsOrigins,
    'must be a comma-separated list of origins such as https://erp.example.com (scheme, host and port only)',
    [] as string[],
  ),
  COOKIE_SECURE: bool(false, 'must be true or false'),
  /** `true` is refused: it takes the left-most X-Forwarded-For, which any client writes itself. */
  TRUST_PROXY: text('false', parseTrustProxy, TRUST_PROXY_RULE),
  SHUTDOWN_DRAIN: int(0, [0, 300], 'must be a number of seconds from 0 to 300'),
  SHUTDOWN_TIMEOUT: int(10, [1, 600], 'must be a number of seconds from 1 to 600'),
  /** Seconds a client gets to send a request's headers, and the whole request; an idle keep-alive lasts. */
  HTTP_HEADERS_TIMEOUT: int(10, [1, 300], 'must be a number of seconds from 1 to 300'),
  HTTP_REQUEST_TIMEOUT: int(
    30,
    [1, 3600],
    'must be a number of seconds from 1 to 3600, at least HTTP_HEADERS_TIMEOUT',
  ),
  HTTP_KEEPALIVE_TIMEOUT: int(72, [1, 3600], 'must be a number of seconds from 1 to 3600'),
  /** Open connections one peer address may hold (0: no limit); trusted proxies are not counted. */
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: int(
    100,
    [0, 100000],
    'must be a number of connections from 0 (off) to 100000',
  ),
  /** Serve /metrics on this port only (else on PORT); a bearer token required to read them. */
  METRICS_PORT: int(undefined, [1, 65535], 'must be an integer from 1 to 65535, other than PORT'),
  /** Sent by Prometheus as `Authorization: Bearer ...`: printable, no spaces, hard to guess. */
  METRICS_TOKEN: verbatim(
    /^[\x21-\x7e]{16,256}$/,
    'must be 16 to 256 printable characters without spaces',
  ),
  /** Redis shared by every instance (rate limits, sign-in failures, change announcements). The
   * URL may hold a password: validated, never repeated in a message or a log. */
  REDIS_URL: text(
    undefined,
    /^rediss?:\/\/\S+$/,
    'must be a redis:// or rediss:// URL (leave it unset to keep limits per instance)',
  ),
  /** Prepended to every Redis key and channel name. */
  REDIS_PREFIX: text(
    'datafor:',
    /^[A-Za-z0-9:._-]{1,64}$/,
    'must be 1 to 64 of A-Z a-z 0-9 : . _ -',
  ),
  /** Milliseconds before a command counts as unanswered: above a healthy round trip, far below
   * what a sign-in may wait (a dead Redis costs this once). */
  REDIS_COMMAND_TIMEOUT: int(50, [5, 10000], 'must be a number of milliseconds from 5 to 10000'),
  SECRETS_KEY: text(
    undefined,
    /^[A-Za-z0-9+/]{43}=$/,
    'must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)',
  ),
  /** The master key before SECRETS_KEY, during an online rotation: still opens what it sealed. */
  SECRETS_KEY_PREVIOUS: text(
    undefined,
    /^[A-Za-z0-9+/]{43}=$/,
    'must be 32 bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)',
  ),
  /** `always` behind a TLS terminator whose X-Forwarded-Proto is not trusted or not sent. */
  SECURITY_HEADERS_TLS: oneOf(
    'auto',
    SECURITY_HEADERS_TLS_MODES,
    'must be auto (on requests that came over TLS) or always',
  ),
};

/** Rules between variables, checked when both are valid; a refusal is the first one's sentence. */
const CHECKS: {
  [N in Name]?: (value: NonNullable<Value<N>>, settings: Partial<Settings>) => boolean;
} = {
  HTTP_REQUEST_TIMEOUT: (timeout, { httpHeadersTimeout }) =>
    httpHeadersTimeout === undefined || timeout >= httpHeadersTimeout,
  METRICS_PORT: (port, settings) => port !== settings.port,
  AUDIT_RETENTION_DAYS: (days, { loginKnownClientTtl }) =>
    days === 0 || loginKnownClientTtl === undefined || days * 86400 >= loginKnownClientTtl,
};

type Name = keyof typeof SETTINGS;
type Value<N extends Name> = (typeof SETTINGS)[N]['unset'];
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<Camel<Tail>>}`
  : Lowercase<S>;
type Values = { [N in Name as Camel<N>]: Value<N> };
type Optional = { [K in keyof Values]: undefined extends Values[K] ? K : never }[keyof Values];

/** The validated, typed settings every other part of the service reads; unset by default: optional. */
export type Settings = Omit<Values, Optional> & Partial<Pick<Values, Optional>>;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

const NAMES = Object.keys(SETTINGS) as Name[];
const camel = (name: string) =>
  name.toLowerCase().replace(/_(.)/g, (_, letter: string) => letter.toUpperCase());

/** Every variable the service reads, with its default (undefined: unset by default). */
export function settingDefaults(): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(NAMES.map((name) => [name, SETTINGS[name].fallback]));
}

/** Reads and validates the environment; throws a SettingsError naming every bad variable. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const settings: Record<string, unknown> = {};
  const refusals = new Map<Name, string>();
  for (const name of NAMES) {
    const { fallback, unset, read, rule, trimmed } = SETTINGS[name] as Setting<unknown>;
    const given = env[name] ?? '';
    const text = trimmed ? given.trim() : given;
    if (given === '' || (text === '' && fallback === undefined)) {
      settings[camel(name)] = unset;
      continue;
    }
    const value = read(text);
    if (value === undefined) refusals.set(name, typeof rule === 'string' ? rule : rule(text));
    else settings[camel(name)] = value;
  }
  for (const [name, check] of Object.entries(CHECKS) as [Name, Check][]) {
    const value = settings[camel(name)];
    if (value !== undefined && !check(value, settings)) {
      refusals.set(name, SETTINGS[name].rule as string);
    }
  }
  if (refusals.size > 0) {
    const sentences = NAMES.filter((name) => refusals.has(name)).map(
      (name) => `${name} ${refusals.get(name)}`,
    );
    throw new SettingsError(`Invalid configuration: ${sentences.join('; ')}.`);
  }
  return settings as Settings;
}

type Check = (value: unknown, settings: Partial<Settings>) => boolean;

/** How one variable is read (the kinds below build them). */
interface Setting<V> {
  /** The default as written in the environment; undefined: unset by default. */
  fallback: string | number | boolean | undefined;
  /** The value when the variable is unset or empty: the default read, or `unset` without one. */
  unset: V;
  /** The value a given text reads as, or undefined when it is refused. */
  read: (text: string) => V | undefined;
  /** What the variable must be, after its name; a function of the refused text when that varies. */
  rule: string | ((text: string) => string);
  /** Read trimmed; blanks only then mean unset when there is no default (and are refused else). */
  trimmed: boolean;
}

/** `undefined` among a setting's values when it has no default. */
type Unset<F> = undefined extends F ? undefined : never;

function setting<V>(
  fallback: Setting<V>['fallback'],
  read: Setting<V>['read'],
  rule: Setting<V>['rule'],
  trimmed: boolean,
  unset?: V,
): Setting<V> {
  const value = fallback === undefined ? unset : read(String(fallback));
  return { fallback, unset: value as V, read, rule, trimmed };
}

/** A whole number from min to max: digits only, blanks around them ignored. */
function int<F extends number | undefined>(
  fallback: F,
  [min, max]: [number, number],
  rule: string,
) {
  return setting<number | Unset<F>>(
    fallback,
    (text) => {
      const digits = text.trim();
      return /^\d+$/.test(digits) && +digits >= min && +digits <= max ? +digits : undefined;
    },
    rule,
    false,
  );
}

/** true, 1 or yes; false, 0 or no; in any letter case, blanks around them ignored. */
function bool(fallback: boolean, rule: string) {
  return setting(
    fallback,
    (text) => {
      const word = text.trim();
      return /^(true|1|yes)$/i.test(word) ? true : /^(false|0|no)$/i.test(word) ? false : undefined;
    },
    rule,
    false,
  );
}

/** One of a list, in any letter case, blanks around it ignored. */
function oneOf<T extends string>(fallback: T, values: readonly T[], rule: string) {
  return setting(
    fallback,
    (text) => values.find((value) => value === text.trim().toLowerCase()),
    rule,
    false,
  );
}

/** A text, trimmed, that matches a pattern or that a parser reads; `unset` when none is given. */
function text<F extends string | undefined, T = string, U = Unset<F>>(
  fallback: F,
  read: RegExp | ((text: string) => T | undefined),
  rule: Setting<T>['rule'],
  unset?: U,
) {
  const parse =
    read instanceof RegExp ? (value: string) => (read.test(value) ? value : undefined) : read;
  return setting<T | U>(fallback, parse as (text: string) => T | undefined, rule, true, unset);
}

/** A text taken as given, blanks included (a password, or a token that has none); no default. */
function verbatim(accept: RegExp | ((text: string) => boolean), rule: Setting<string>['rule']) {
  const accepts = (value: string) =>
    accept instanceof RegExp ? accept.test(value) : accept(value);
  return setting<string | undefined>(
    undefined,
    (value) => (accepts(value) ? value : undefined),
    rule,
    false,
  );
}

/** A setting whose value, once read, is turned into another. */
function mapped<V, W>(inner: Setting<V>, map: (value: V) => W): Setting<W> {
  const read = (text: string) => {
    const value = inner.read(text);
    return value === undefined ? undefined : map(value);
  };
  return setting(inner.fallback, read, inner.rule, inner.trimmed);
}
