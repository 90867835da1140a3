import { QueryFailedError } from 'typeorm';
import { storageFailureOf } from './storage-failure';

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
    const duplicate = pgError('duplicate key value violates unique constraint', '23505');
    expect(storageFailureOf(new QueryFailedError('INSERT', [], duplicate))).toBeUndefined();
    expect(storageFailureOf(new Error('Client closed the form'))).toBeUndefined();
  });
});
