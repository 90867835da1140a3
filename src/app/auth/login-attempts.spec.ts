import { jest } from '@jest/globals';
import type { AppSettings } from '../../config/settings.config';
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
  /** Attempts over `store`, where no address is known. */
  const onStore = (store: InMemoryLoginAttemptStore) =>
    new LoginAttempts({ ...DEFAULTS } as AppSettings, store, {
      has: async () => false,
    } as unknown as KnownAddresses);
  const stranger = (n: number): SignInClient => ({ address: `203.0.113.${n}` });
  /** A wrong password: reserved, checked, failed. */
  const fail = async (attempts: LoginAttempts, username: string, client: SignInClient) =>
    attempts.failed(await attempts.reserve(username, client));
  /** A right password: reserved, checked, succeeded. */
  const succeed = async (attempts: LoginAttempts, username: string, client: SignInClient) =>
    attempts.succeeded(await attempts.reserve(username, client));
  /** Whether `client` may try `username` now, leaving every count as it was. */
  const probe = async (attempts: LoginAttempts, username: string, client: SignInClient) =>
    attempts.release(await attempts.reserve(username, client));
  /** Three failures from three new addresses: the lock they put on the username. */
  let strangers = 100;
  const lockOut = async (attempts: LoginAttempts, username: string) => {
    expect(await fail(attempts, username, stranger(strangers++))).toBeUndefined();
    expect(await fail(attempts, username, stranger(strangers++))).toBeUndefined();
    return fail(attempts, username, stranger(strangers++));
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
      expect(await retryAfter(probe(attempts, 'admin', stranger(9)))).toBe(seconds);
      waits.push(seconds);
      jest.advanceTimersByTime(seconds * 1000);
      expect(await retryAfter(probe(attempts, 'admin', stranger(9)))).toBe(0);
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
    expect(await retryAfter(probe(attempts, 'admin', { address: '10.0.0.1' }))).toBe(0);
    expect(await retryAfter(probe(attempts, 'admin', { address: '10.0.0.2', device: 'd1' }))).toBe(
      0,
    );
    expect(await retryAfter(probe(attempts, 'admin', { address: '10.0.0.2' }))).toBe(60);
    // The lock is the username's: another username is not locked.
    expect(await retryAfter(probe(attempts, 'other', { address: '10.0.0.2' }))).toBe(0);
  });

  it('asks for known addresses only while a lock or a slow-down is in force', async () => {
    const attempts = newAttempts();
    await fail(attempts, 'admin', stranger(1));
    await probe(attempts, 'admin', stranger(1));
    await probe(attempts, 'admin', stranger(2));
    expect(lookups).toBe(0);
    await fail(attempts, 'admin', stranger(2));
    expect(await fail(attempts, 'admin', stranger(3))).toBeDefined();
    await retryAfter(probe(attempts, 'admin', stranger(9)));
    expect(lookups).toBe(1);
  });

  it('slows an address past the limit to one try per window/max seconds for unknown clients', async () => {
    const attempts = newAttempts();
    knownAt.add('alice@192.0.2.1');
    const nat = { address: '192.0.2.1' };
    for (const username of ['u1', 'u2', 'u3']) await fail(attempts, username, nat);
    expect(await retryAfter(probe(attempts, 'bob', nat))).toBe(0);
    expect(await retryAfter(probe(attempts, 'carol', nat))).toBe(300);
    expect(await retryAfter(probe(attempts, 'alice', nat))).toBe(0);
    expect(await retryAfter(probe(attempts, 'carol', { ...nat, device: 'd1' }))).toBe(0);
    jest.advanceTimersByTime(300_000);
    expect(await retryAfter(probe(attempts, 'carol', nat))).toBe(0);
  });

  it('refuses a username from one client past the limit until the window ends, known or not', async () => {
    const attempts = newAttempts();
    knownAt.add('alice@10.0.0.1');
    const office = { address: '10.0.0.1' };
    for (let i = 0; i < 3; i++) await fail(attempts, 'alice', office);
    expect(await retryAfter(probe(attempts, 'alice', office))).toBe(900);
    // A device is a client of its own, with its own count.
    expect(await retryAfter(probe(attempts, 'alice', { ...office, device: 'd1' }))).toBe(0);
    jest.advanceTimersByTime(900_000);
    expect(await retryAfter(probe(attempts, 'alice', office))).toBe(0);
  });

  it("clears only the pair's count on success, never the username's or the address's", async () => {
    const attempts = newAttempts();
    knownAt.add('alice@10.0.0.1');
    const office = { address: '10.0.0.1' };
    await fail(attempts, 'alice', office);
    await fail(attempts, 'alice', office);
    await succeed(attempts, 'alice', office);
    await fail(attempts, 'alice', office);
    expect(await retryAfter(probe(attempts, 'alice', office))).toBe(0);
    // The username's count went on: this third failure locked it.
    expect(await retryAfter(probe(attempts, 'alice', stranger(9)))).toBe(60);
  });

  it('lets a known-good password through without counting it, and refuses it while the pair is spent', async () => {
    const attempts = newAttempts();
    knownAt.add('alice@10.0.0.1');
    const office = { address: '10.0.0.1' };
    await fail(attempts, 'alice', office);
    await fail(attempts, 'alice', office);
    // A recently verified password clears the pair's typos, as a checked success does.
    await attempts.admitKnownGood('alice', office);
    await fail(attempts, 'alice', office);
    await fail(attempts, 'alice', office);
    expect(await retryAfter(probe(attempts, 'alice', office))).toBe(0);
    await fail(attempts, 'alice', office);
    expect(await retryAfter(attempts.admitKnownGood('alice', office))).toBe(900);
  });

  it('checks at most LOGIN_MAX_FAILURES passwords of 400 concurrent guesses from one client, and locks once', async () => {
    const attempts = newAttempts({ loginMaxFailures: 10 });
    const tries = await Promise.allSettled(
      Array.from({ length: 400 }, () => attempts.reserve('admin', stranger(1))),
    );
    const reserved = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
    expect(reserved).toHaveLength(10);
    const refused = tries.filter((t) => t.status === 'rejected');
    expect(refused.every((t) => t.reason instanceof TooManyFailuresException)).toBe(true);
    const locks = await Promise.all(reserved.map((attempt) => attempts.failed(attempt)));
    expect(locks.filter((lock) => lock !== undefined)).toEqual([{ seconds: 60, lockNumber: 1 }]);
    expect(await retryAfter(probe(attempts, 'admin', stranger(2)))).toBe(60);
  });

  it('checks at most LOGIN_MAX_FAILURES passwords of a username guessed from 400 addresses at once', async () => {
    const attempts = newAttempts({ loginMaxFailures: 10 });
    const tries = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) =>
        attempts.reserve('admin', { address: `198.51.${i >> 8}.${i & 255}` }),
      ),
    );
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(10);
  });

  it('lets one address try 400 made-up usernames at once only up to its budget and one slot', async () => {
    const attempts = newAttempts({ loginMaxFailures: 10 });
    const tries = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) => attempts.reserve(`nobody-${i}`, stranger(1))),
    );
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(11);
  });

  it('counts every address of an IPv6 /64 as one client: a new address per guess gains nothing', async () => {
    const attempts = newAttempts({ loginMaxFailures: 10 });
    const tries = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) =>
        attempts.reserve(`nobody-${i}`, { address: `2001:db8:7:42::${(i + 1).toString(16)}` }),
      ),
    );
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(11);
    // Another /64 has its own budget.
    expect(await retryAfter(probe(attempts, 'nobody', { address: '2001:db8:7:43::1' }))).toBe(0);
  });

  it('gives back what a refused or unchecked try took', async () => {
    const attempts = newAttempts();
    const office = { address: '10.0.0.1' };
    for (let i = 0; i < 50; i++) await probe(attempts, 'alice', office);
    await attempts.release(await attempts.reserve('alice', office));
    expect(await fail(attempts, 'alice', office)).toBeUndefined();
    expect(await fail(attempts, 'alice', office)).toBeUndefined();
    expect(await fail(attempts, 'alice', office)).toEqual({ seconds: 60, lockNumber: 1 });
  });

  it('locks once when a success gives its unit back while another try holds the last one', async () => {
    const attempts = newAttempts();
    const first = await attempts.reserve('admin', stranger(1));
    await attempts.failed(await attempts.reserve('admin', stranger(2)));
    const last = await attempts.reserve('admin', stranger(3));
    await attempts.succeeded(first);
    // The success's unit went back: a fourth try also reaches the limit before `last` fails.
    const late = await attempts.reserve('admin', stranger(4));
    expect(late.userRank).toBe(last.userRank);
    const locks = [await attempts.failed(last), await attempts.failed(late)];
    expect(locks.filter((lock) => lock !== undefined)).toEqual([{ seconds: 60, lockNumber: 1 }]);
  });

  it('refuses with reads alone once a budget is spent: 500 refused tries write nothing', async () => {
    const store = new InMemoryLoginAttemptStore();
    const attempts = onStore(store);
    const nat = { address: '192.0.2.9' };
    for (const username of ['u1', 'u2', 'u3']) await fail(attempts, username, nat);
    await probe(attempts, 'victim', nat);
    const writes: string[] = [];
    for (const method of ['increment', 'decrement', 'set'] as const) {
      const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
      (store as unknown as Record<string, unknown>)[method] = (key: string, ...rest: unknown[]) => {
        writes.push(`${method} ${key}`);
        return original(key, ...rest);
      };
    }
    const tries = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) => attempts.reserve(`made-up-${i}`, nat)),
    );
    expect(tries.every((t) => t.status === 'rejected')).toBe(true);
    // Each asked for the address's one slot, which was taken: nothing counted for any username.
    expect(new Set(writes)).toEqual(new Set(['increment address-slot:192.0.2.9']));
    expect(await store.get('user:victim')).toBeUndefined();
  });

  it('deletes a count that a give-back leaves at zero or below, after the key expired or was deleted', async () => {
    const store = new InMemoryLoginAttemptStore();
    const attempts = onStore(store);
    const office = { address: '10.0.0.1' };
    const inFlight = await attempts.reserve('alice', office);
    await store.delete('user:alice');
    await store.delete('address:10.0.0.1');
    await attempts.release(inFlight);
    expect(await store.get('user:alice')).toBeUndefined();
    expect(await store.get('address:10.0.0.1')).toBeUndefined();
    // The budget is whole again, not one larger.
    for (let i = 0; i < 3; i++) await fail(attempts, 'alice', stranger(200 + i));
    expect(await retryAfter(probe(attempts, 'alice', stranger(210)))).toBe(60);
  });

  it('counts nothing and refuses nothing when LOGIN_MAX_FAILURES is 0', async () => {
    const attempts = newAttempts({ loginMaxFailures: 0 });
    for (let i = 0; i < 20; i++) expect(await fail(attempts, 'admin', stranger(1))).toBeUndefined();
    expect(await retryAfter(probe(attempts, 'admin', stranger(1)))).toBe(0);
    expect(await retryAfter(attempts.admitKnownGood('admin', stranger(1)))).toBe(0);
  });
});
