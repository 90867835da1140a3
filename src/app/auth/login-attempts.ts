import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { clientNetwork } from '../http/client-network';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { KnownAddresses } from './known-addresses';
import {
  LOGIN_ATTEMPT_STORE,
  type LoginAttemptCount,
  type LoginAttemptStore,
} from './login-attempt.store';

export class TooManyFailuresException extends HttpException {
  constructor(readonly retryAfter: number) {
    super('too many failed sign-ins: try again later', HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** Where a sign-in comes from: its address, and the device id of a genuine device cookie for that user. */
export interface SignInClient {
  address: string;
  device?: string;
}

/**
 * A password check that took its share of every budget before it ran: settle it with `failed`
 * or `succeeded` once the password is known to be wrong or right.
 */
export interface SignInTry {
  readonly username: string;
  readonly client: SignInClient;
  /** This try's rank among the username's tries in the window (0: nothing counted). */
  readonly userRank: number;
}

/** A lock that a failure put on a username: how long, and its rank among recent locks. */
export interface UsernameLock {
  seconds: number;
  lockNumber: number;
}

/** The budgets of one sign-in as the store holds them, this try included when it reserved. */
interface Budgets {
  pair?: LoginAttemptCount;
  user?: LoginAttemptCount;
  address?: LoginAttemptCount;
  lock?: LoginAttemptCount;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Slows password guessing without letting a stranger deny the owner (OWASP device cookies,
 * Keycloak's brute-force detection). Within LOGIN_FAILURE_WINDOW, LOGIN_MAX_FAILURES failures:
 * - for a username, lock it against unknown clients for LOGIN_LOCK_DURATION, doubled for each
 *   further lock up to LOGIN_LOCK_MAX_DURATION, until LOGIN_LOCK_RESET passes without one;
 * - from an address, slow that address's unknown clients to one try per window/max seconds;
 * - for a username from one client (device, else address), refuse that pair until the window ends.
 * A known client (a device cookie of the user, or an address the user signed in from before)
 * passes the first two: the owner keeps signing in while strangers are held back.
 *
 * A password check first takes one unit of each budget with an atomic increment, and counts as a
 * failure until it succeeds; so N concurrent guesses, on one instance or across a fleet sharing
 * the store, check at most the budget's passwords, and exactly one of them locks the username.
 */
@Injectable()
export class LoginAttempts {
  private readonly max: number;
  private readonly window: number;
  private readonly slotSeconds: number;
  private readonly lockBase: number;
  private readonly lockMax: number;
  private readonly lockReset: number;

  constructor(
    @Inject(settingsConfig.KEY) settings: AppSettings,
    @Inject(LOGIN_ATTEMPT_STORE) private readonly store: LoginAttemptStore,
    private readonly known: KnownAddresses,
  ) {
    this.max = settings.loginMaxFailures;
    this.window = settings.loginFailureWindow;
    this.slotSeconds = this.max === 0 ? 0 : Math.max(1, Math.round(this.window / this.max));
    this.lockBase = settings.loginLockDuration;
    this.lockMax = settings.loginLockMaxDuration;
    this.lockReset = settings.loginLockReset;
  }

  /**
   * Takes this try's share of every budget before its password is checked; throws
   * TooManyFailuresException (with the seconds to wait), and keeps nothing, when `client` may
   * not try `username` now.
   */
  async reserve(username: string, client: SignInClient): Promise<SignInTry> {
    if (this.max === 0) return { username, client, userRank: 0 };
    const keys = this.keys(username, client);
    const admission = new Admission(username, client);
    // A budget already spent refuses with reads alone: a flood of refused tries writes nothing.
    const before = await this.read(keys);
    await this.admit(admission, before, 0);
    const [pair, user, address] = await Promise.all([
      this.store.increment(keys.pair, this.window),
      this.store.increment(keys.user, this.window),
      this.store.increment(keys.address, this.window),
    ]);
    const attempt = { username, client, userRank: user.count };
    try {
      // Again with what the tries let in at the same moment took: only the first ones go on.
      await this.admit(admission, { pair, user, address, lock: before.lock }, 1);
    } catch (error) {
      await this.release(attempt);
      throw error;
    }
    return attempt;
  }

  /** Gives back every unit of a try whose password was never checked (refused, or the check failed). */
  async release(attempt: SignInTry): Promise<void> {
    if (this.max === 0) return;
    const keys = this.keys(attempt.username, attempt.client);
    await Promise.all([keys.pair, keys.user, keys.address].map((key) => this.store.decrement(key)));
  }

  /**
   * For a password already known to be right (a recently verified credential), which needs no
   * check: throws TooManyFailuresException when `client` may not sign in as `username` now, else
   * clears the pair's count as a success does.
   */
  async admitKnownGood(username: string, client: SignInClient): Promise<void> {
    if (this.max === 0) return;
    const keys = this.keys(username, client);
    const budgets = await this.read(keys);
    await this.admit(new Admission(username, client), budgets, 0);
    if (budgets.pair) await this.store.delete(keys.pair);
  }

  /**
   * For a password already known to be wrong (the outcome of a check of the same credentials
   * running meanwhile): throws TooManyFailuresException as a try would be refused; counts nothing.
   */
  async admitKnownBad(username: string, client: SignInClient): Promise<void> {
    if (this.max === 0) return;
    await this.admit(
      new Admission(username, client),
      await this.read(this.keys(username, client)),
      0,
    );
  }

  /** The try's password was wrong: its units stay spent; answers the lock it put, if any. */
  async failed(attempt: SignInTry): Promise<UsernameLock | undefined> {
    // Exactly the try that reached the limit locks: those past it were refused before checking.
    if (this.max === 0 || attempt.userRank !== this.max) return undefined;
    const { username } = attempt;
    const lockNumber = ((await this.store.get(`lock-number:${username}`))?.count ?? 0) + 1;
    const lockSeconds = Math.min(this.lockMax, this.lockBase * 2 ** Math.min(lockNumber - 1, 30));
    // The lock is a counter too: only the failure whose increment created it locks, even when a
    // success's refund let a second try reach the limit meanwhile.
    const claim = await this.store.increment(`lock:${username}`, lockSeconds);
    if (claim.count !== 1) return undefined;
    await Promise.all([
      this.store.set(`lock-number:${username}`, lockNumber, lockSeconds + this.lockReset),
      this.store.delete(`user:${username}`),
    ]);
    return { seconds: lockSeconds, lockNumber };
  }

  /**
   * The try's password was right: it gives back its units of the username's and the address's
   * budgets, and clears the pair's count (the owner's own typos), never the others.
   */
  async succeeded(attempt: SignInTry): Promise<void> {
    if (this.max === 0) return;
    const keys = this.keys(attempt.username, attempt.client);
    await Promise.all([
      this.store.delete(keys.pair),
      this.store.decrement(keys.user),
      this.store.decrement(keys.address),
    ]);
  }

  private async read(keys: ReturnType<LoginAttempts['keys']>): Promise<Budgets> {
    const [pair, user, address, lock] = await Promise.all(
      [keys.pair, keys.user, keys.address, keys.lock].map((key) => this.store.get(key)),
    );
    return { pair, user, address, lock };
  }

  /** Refuses when a budget is spent; `own` is how many units of each count are this try's. */
  private async admit(
    admission: Admission,
    { pair, user, address, lock }: Budgets,
    own: number,
  ): Promise<void> {
    const spent = (count?: LoginAttemptCount) => (count?.count ?? 0) - own >= this.max;
    if (spent(pair)) throw new TooManyFailuresException(seconds(pair!.msLeft));
    // Tries in flight past the username's budget hold it as a lock would, until they settle.
    const locked = lock !== undefined || spent(user);
    const slowed = spent(address);
    if (!locked && !slowed) return;
    if (await admission.known(this.known)) return;
    if (locked) throw new TooManyFailuresException(seconds(lock?.msLeft ?? this.lockBase * 1000));
    if (admission.hasSlot) return;
    const from = clientNetwork(admission.client.address);
    const slot = await this.store.increment(`address-slot:${from}`, this.slotSeconds);
    if (slot.count > 1) throw new TooManyFailuresException(seconds(slot.msLeft));
    admission.hasSlot = true;
  }

  /** The store's keys of a try's budgets; an address counts as its network (clientNetwork). */
  private keys(username: string, client: SignInClient) {
    const address = `address:${clientNetwork(client.address)}`;
    const from = client.device === undefined ? address : `device:${client.device}`;
    return {
      pair: `user-client:${username}\u0000${from}`,
      user: `user:${username}`,
      address,
      lock: `lock:${username}`,
    };
  }
}

/** One try's admission: whether its client is known (asked once, if at all) and holds a slot. */
class Admission {
  hasSlot = false;
  private knownClient?: Promise<boolean>;

  constructor(
    readonly username: string,
    readonly client: SignInClient,
  ) {}

  known(addresses: KnownAddresses): Promise<boolean> {
    if (this.client.device !== undefined) return Promise.resolve(true);
    this.knownClient ??= addresses.has(this.username, this.client.address);
    return this.knownClient;
  }
}
