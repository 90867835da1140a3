import { jest } from '@jest/globals';
import type { AppSettings } from '../config/settings.config';
import type { KnownAddresses } from './known-addresses';
import { InMemoryLoginAttemptStore } from './login-attempt.store';
import { LoginAttempts, type SignInClient, TooManyFailuresException } from './login-attempts';

const DEFAULTS = {
  loginMaxFailures: 3,
  loginFailureWindow: 900,
  loginLockDuration: 60,
  loginLockMaxDuration: 3600,
  loginLockReset: 86400,
};

/** The seconds a refusal asks to wait, or 0 when the sign-in may go ahead. */
const retryAfter = (check: Promise<unknown>) =>
  check.then(
    () => 0,
    (error: unknown) => {
      if (error instanceof TooManyFailuresException) return error.retryAfter;
      throw error;
    },
  );

describe('LoginAttempts', () => {
  let knownAt: Set<string>;
  let lookups: number;

  const newAttempts = (settings: Partial<typeof DEFAULTS> = {}) =>
    new LoginAttempts(
      { ...DEFAULTS, ...settings } as AppSettings,
      new InMemoryLoginAttemptStore(),
      {
        has: async (username: string, address: string) => {
          lookups++;
          return knownAt.has(`${username}@${address}`);
        },
      } as KnownAddresses,
    );
  const stranger = (n: number): SignInClient => ({ address: `203.0.113.${n}` });
  /** Three failures from three addresses: the lock they put on the username. */
  const lockOut = async (attempts: LoginAttempts, username: string) => {
    expect(await attempts.failed(username, stranger(1))).toBeUndefined();
    expect(await attempts.failed(username, stranger(2))).toBeUndefined();
    return attempts.failed(username, stranger(3));
  };

  beforeEach(() => {
    knownAt = new Set();
    lookups = 0;
    jest.useFakeTimers({ now: 1_800_000_000_000 });
  });
  afterEach(() => jest.useRealTimers());

  it('locks a username for LOGIN_LOCK_DURATION, doubled per lock up to LOGIN_LOCK_MAX_DURATION', async () => {
    const attempts = newAttempts();
    const waits: number[] = [];
    for (let lock = 1; lock <= 8; lock++) {
      const { seconds, lockNumber } = (await lockOut(attempts, 'admin'))!;
      expect(lockNumber).toBe(lock);
      expect(await retryAfter(attempts.check('admin', stranger(9)))).toBe(seconds);
      waits.push(seconds);
      jest.advanceTimersByTime(seconds * 1000);
      expect(await retryAfter(attempts.check('admin', stranger(9)))).toBe(0);
    }
    expect(waits).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  it('starts the doubling over once LOGIN_LOCK_RESET passes after a lock without another', async () => {
    const attempts = newAttempts();
    expect((await lockOut(attempts, 'admin'))!.seconds).toBe(60);
    jest.advanceTimersByTime((60 + 86400 - 1) * 1000);
    expect((await lockOut(attempts, 'admin'))!.seconds).toBe(120);
    jest.advanceTimersByTime((120 + 86400) * 1000);
    expect(await lockOut(attempts, 'admin')).toEqual({ seconds: 60, lockNumber: 1 });
  });

  it('lets a known address and a device cookie through a lock, and no one else', async () => {
    const attempts = newAttempts();
    knownAt.add('admin@10.0.0.1');
    await lockOut(attempts, 'admin');
    expect(await retryAfter(attempts.check('admin', { address: '10.0.0.1' }))).toBe(0);
    expect(await retryAfter(attempts.check('admin', { address: '10.0.0.2', device: 'd1' }))).toBe(
      0,
    );
    expect(await retryAfter(attempts.check('admin', { address: '10.0.0.2' }))).toBe(60);
    // The lock is the username's: another username is not locked.
    expect(await retryAfter(attempts.check('other', { address: '10.0.0.2' }))).toBe(0);
  });

  it('asks for known addresses only while a lock or a slow-down is in force', async () => {
    const attempts = newAttempts();
    await attempts.failed('admin', stranger(1));
    await attempts.check('admin', stranger(1));
    await attempts.check('admin', stranger(2));
    expect(lookups).toBe(0);
    await attempts.failed('admin', stranger(2));
    expect(await attempts.failed('admin', stranger(3))).toBeDefined();
    await retryAfter(attempts.check('admin', stranger(9)));
    expect(lookups).toBe(1);
  });

  it('slows an address past the limit to one try per window/max seconds for unknown clients', async () => {
    const attempts = newAttempts();
    knownAt.add('alice@192.0.2.1');
    const nat = { address: '192.0.2.1' };
    for (const username of ['u1', 'u2', 'u3']) await attempts.failed(username, nat);
    expect(await retryAfter(attempts.check('bob', nat))).toBe(0);
    expect(await retryAfter(attempts.check('carol', nat))).toBe(300);
    expect(await retryAfter(attempts.check('alice', nat))).toBe(0);
    expect(await retryAfter(attempts.check('carol', { ...nat, device: 'd1' }))).toBe(0);
    jest.advanceTimersByTime(300_000);
    expect(await retryAfter(attempts.check('carol', nat))).toBe(0);
  });

  it('refuses a username from one client past the limit until the window ends, known or not', async () => {
    const attempts = newAttempts();
    knownAt.add('alice@10.0.0.1');
    const office = { address: '10.0.0.1' };
    for (let i = 0; i < 3; i++) await attempts.failed('alice', office);
    expect(await retryAfter(attempts.check('alice', office))).toBe(900);
    // A device is a client of its own, with its own count.
    expect(await retryAfter(attempts.check('alice', { ...office, device: 'd1' }))).toBe(0);
    jest.advanceTimersByTime(900_000);
    expect(await retryAfter(attempts.check('alice', office))).toBe(0);
  });

  it("clears only the pair's count on success, never the username's or the address's", async () => {
    const attempts = newAttempts();
    knownAt.add('alice@10.0.0.1');
    const office = { address: '10.0.0.1' };
    await attempts.failed('alice', office);
    await attempts.failed('alice', office);
    await attempts.succeeded('alice', office);
    await attempts.failed('alice', office);
    expect(await retryAfter(attempts.check('alice', office))).toBe(0);
    // The username's count went on: this third failure locked it.
    expect(await retryAfter(attempts.check('alice', stranger(9)))).toBe(60);
  });

  it("clears the pair's count after a check that found failures, and leaves the store alone after one that found none", async () => {
    const store = new InMemoryLoginAttemptStore();
    const deleted: string[] = [];
    const remove = store.delete.bind(store);
    store.delete = (key: string) => {
      deleted.push(key);
      return remove(key);
    };
    const attempts = new LoginAttempts({ ...DEFAULTS } as AppSettings, store, {
      has: async () => false,
    } as unknown as KnownAddresses);
    const office = { address: '10.0.0.1' };
    await attempts.succeeded('alice', office, await attempts.check('alice', office));
    expect(deleted).toEqual([]);
    await attempts.failed('alice', office);
    await attempts.succeeded('alice', office, await attempts.check('alice', office));
    expect(deleted).toEqual(['user-client:alice\u0000address:10.0.0.1']);
    expect(await attempts.check('alice', office)).toEqual({ pairFailures: 0 });
  });

  it('counts nothing and refuses nothing when LOGIN_MAX_FAILURES is 0', async () => {
    const attempts = newAttempts({ loginMaxFailures: 0 });
    for (let i = 0; i < 20; i++)
      expect(await attempts.failed('admin', stranger(1))).toBeUndefined();
    expect(await retryAfter(attempts.check('admin', stranger(1)))).toBe(0);
  });
});
