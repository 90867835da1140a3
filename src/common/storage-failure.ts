/**
 * Database errors that mean "the store cannot take this now" rather than "this request is wrong":
 * a full disk, a database that does not answer, a connection lost or timed out (503), or a row
 * that a concurrent request inserted first (409). They answer with the error envelope (never
 * 500), and never carry the driver's text, which may quote values.
 */
export interface StorageFailure {
  reason: 'full' | 'unavailable' | 'conflict';
  status: 503 | 409;
  msg: string;
}

const FULL: StorageFailure = {
  reason: 'full',
  status: 503,
  msg: 'the database is out of space: the change was not saved, try again later',
};
const UNAVAILABLE: StorageFailure = {
  reason: 'unavailable',
  status: 503,
  msg: 'the database is unavailable: the request was not completed, try again later',
};
const CONFLICT: StorageFailure = {
  reason: 'conflict',
  status: 409,
  msg: 'a concurrent request changed the same record first: the change was not saved, try again',
};

/** A unique key taken meanwhile: PostgreSQL unique_violation, SQLite's primary key or UNIQUE. */
const UNIQUE_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/** Whether `error` (or the driver's error it wraps) is a unique key taken by a concurrent write. */
export function isUniqueViolation(error: unknown): boolean {
  return storageFailureOf(error)?.reason === 'conflict';
}

/** SQLite result codes (better-sqlite3's `code`) that leave the store unable to write. */
const SQLITE_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN']);
const SQLITE_UNAVAILABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_READONLY']);
/** Node file system errors (the audit writer syncs the SQLite WAL file itself). */
const FILE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO']);
/** The audit trail's writer thread died or was closed (sqlite-audit-writer.ts), or Node could not run one. */
const WORKER_CODES = new Set([
  'ERR_AUDIT_WRITER_GONE',
  'ERR_WORKER_OUT_OF_MEMORY',
  'ERR_WORKER_INIT_FAILED',
]);
/** PostgreSQL stopped answering and is not asked again until it does (database-link.ts). */
/** What a query gets at once while the PostgreSQL link is down (database-link.ts, which loads pg). */
export const DATABASE_UNREACHABLE = 'ERR_DATABASE_UNREACHABLE';
const LINK_CODES = new Set([DATABASE_UNREACHABLE]);
/** Node socket errors met while reaching PostgreSQL. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);

/**
 * node-postgres reports lost or timed-out connections with these messages and no code; a client
 * ends itself after a query timeout (postgres-client.ts), so a later query on it meets "closed".
 */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What a thrown error says about the store, or undefined when it is not a storage failure. */
export function storageFailureOf(error: unknown): StorageFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // TypeORM wraps the driver's error as `driverError`; look at both.
  const driverError = (error as { driverError?: unknown }).driverError;
  for (const candidate of driverError ? [driverError, error] : [error]) {
    const code = codeOf(candidate);
    if (code === undefined) {
      const message = (candidate as { message?: unknown }).message;
      if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return UNAVAILABLE;
      continue;
    }
    if (UNIQUE_CODES.has(code)) return CONFLICT;
    const sqliteBase = code.startsWith('SQLITE_') ? code.replace(/^(SQLITE_[A-Z]+).*$/, '$1') : '';
    if (SQLITE_FULL_CODES.has(sqliteBase) || FILE_FULL_CODES.has(code)) return FULL;
    if (SQLITE_UNAVAILABLE_CODES.has(sqliteBase)) return UNAVAILABLE;
    // PostgreSQL SQLSTATE classes: 53 insufficient resources (53100 disk full), 08 connection
    // exception, 57P admin/crash shutdown, 57014 statement timeout or cancel, 25P03 a session
    // ended by idle_in_transaction_session_timeout.
    if (code === '53100') return FULL;
    if (/^(53|08)/.test(code) || /^57P0/.test(code) || code === '57014' || code === '25P03')
      return UNAVAILABLE;
    if (NETWORK_CODES.has(code) || WORKER_CODES.has(code) || LINK_CODES.has(code))
      return UNAVAILABLE;
  }
  return undefined;
}
