import { QueryFailedError } from 'typeorm';
import { isUniqueViolation, storageFailureOf } from './storage-failure';

const unavailable = expect.objectContaining({ reason: 'unavailable' });
const pgError = (message: string, code?: string) => Object.assign(new Error(message), { code });

describe('storageFailureOf on PostgreSQL errors met when the network is dead', () => {
  it.each([
    [
      'the pool waited too long for a connection',
      new Error('timeout exceeded when trying to connect'),
    ],
    [
      'a new connection did not answer in time',
      new Error('Connection terminated due to connection timeout'),
    ],
    [
      'a query got no answer (wrapped by TypeORM)',
      new QueryFailedError('SELECT 1', [], new Error('Query read timeout')),
    ],
    [
      'a query ran on a client ended after its timeout',
      new QueryFailedError('SELECT 1', [], new Error('Client was closed and is not queryable')),
    ],
    [
      'the server cancelled a statement',
      pgError('canceling statement due to statement timeout', '57014'),
    ],
    [
      'the server ended a session idle in a transaction',
      pgError('terminating connection due to idle-in-transaction timeout', '25P03'),
    ],
  ])('classifies "%s" as unavailable', (_what, error) => {
    expect(storageFailureOf(error)).toEqual(unavailable);
  });

  it('leaves errors of the request itself alone', () => {
    expect(storageFailureOf(new Error('Client closed the form'))).toBeUndefined();
  });
});

const withCode = (code: string, message = 'driver text with a value: s3cr3t') =>
  Object.assign(new Error(message), { code });
/** How TypeORM hands a driver's error on: wrapped, with the driver's as `driverError`. */
const wrapped = (driverError: Error) => new QueryFailedError('INSERT ...', [], driverError);

describe('storageFailureOf: the codes it knows', () => {
  it.each(['23505', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE'])(
    'counts a unique key taken meanwhile (%s) as a conflict, 409',
    (code) => {
      expect(storageFailureOf(wrapped(withCode(code)))).toMatchObject({
        reason: 'conflict',
        status: 409,
      });
      expect(isUniqueViolation(withCode(code))).toBe(true);
    },
  );

  it('leaves other constraints alone (a request the service should have refused first)', () => {
    for (const code of ['23503', '23502', 'SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_CHECK'])
      expect(storageFailureOf(wrapped(withCode(code)))).toBeUndefined();
  });

  it.each([
    'SQLITE_FULL',
    'SQLITE_IOERR',
    'SQLITE_IOERR_WRITE',
    'SQLITE_IOERR_FSYNC',
    'SQLITE_CANTOPEN',
  ])('counts SQLite %s as a full store', (code) => {
    expect(storageFailureOf(wrapped(withCode(code)))?.reason).toBe('full');
    expect(storageFailureOf(withCode(code))?.reason).toBe('full');
  });

  it.each(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_READONLY'])(
    'counts SQLite %s as an unavailable store',
    (code) => {
      expect(storageFailureOf(wrapped(withCode(code)))?.reason).toBe('unavailable');
    },
  );

  it.each(['ENOSPC', 'EDQUOT', 'EIO'])(
    'counts a file system %s (the audit writer syncing its WAL file) as a full store',
    (code) => {
      expect(storageFailureOf(withCode(code))?.reason).toBe('full');
    },
  );

  it('counts PostgreSQL disk_full (53100) as a full store', () => {
    expect(storageFailureOf(wrapped(withCode('53100')))?.reason).toBe('full');
  });

  it.each([
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['08006', 'connection failure'],
    ['08001', 'cannot connect'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'cannot connect now'],
    ['57014', 'statement timeout'],
  ])('counts PostgreSQL %s (%s) as an unavailable store', (code) => {
    expect(storageFailureOf(wrapped(withCode(code)))?.reason).toBe('unavailable');
  });

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENOTFOUND',
  ])('counts the socket error %s as an unavailable store', (code) => {
    expect(storageFailureOf(withCode(code))?.reason).toBe('unavailable');
  });

  it.each([
    ['SQLITE_ERROR', 'an SQL error'],
    ['22P02', 'a PostgreSQL bad value'],
    ['42P01', 'a PostgreSQL missing table'],
  ])('leaves %s (%s) to the other error handling', (code) => {
    expect(storageFailureOf(wrapped(withCode(code)))).toBeUndefined();
  });

  it.each([undefined, null, 'SQLITE_FULL', 53100, new Error('Connection lost for good')])(
    'answers undefined for %p',
    (value) => {
      expect(storageFailureOf(value)).toBeUndefined();
    },
  );

  it("never carries the driver's text, which may quote stored values", () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_BUSY', '53100', 'ECONNRESET']) {
      const failure = storageFailureOf(wrapped(withCode(code)));
      expect(failure?.msg).toMatch(
        /^the database is (out of space|unavailable): .* try again later$/,
      );
      expect(failure?.msg).not.toContain('s3cr3t');
    }
  });
});
