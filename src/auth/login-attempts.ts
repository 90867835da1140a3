import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../config/settings.config';
import { KnownAddresses } from './known-addresses';
import { LOGIN_ATTEMPT_STORE, type LoginAttemptStore } from './login-attempt.store';

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

/** What a sign-in's check found, for its success: the failures counted for its username and client. */
export interface SignInCheck {
  pairFailures: number;
}

/** A lock that a failure put on a username: how long, and its rank among recent locks. */
export interface UsernameLock {
  seconds: number;
  lockNumber: number;
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
   * Throws TooManyFailuresException (with the seconds to wait) when `client` may not try `username`
   * now; else answers what `succeeded` needs to know.
   */
  async check(username: string, client: SignInClient): Promise<SignInCheck> {
    if (this.max === 0) return { pairFailures: 0 };
    // Read together: one round trip to a shared store rather than three.
    const [pair, lock, address] = await Promise.all([
      this.store.get(this.pairKey(username, client)),
      this.store.get(`lock:${username}`),
      this.store.get(`address:${client.address}`),
    ]);
    if (pair && pair.count >= this.max) throw new TooManyFailuresException(seconds(pair.msLeft));
    const checked = { pairFailures: pair?.count ?? 0 };
    const slowed = address !== undefined && address.count >= this.max;
    if (!lock && !slowed) return checked;
    if (client.device !== undefined || (await this.known.has(username, client.address)))
      return checked;
    if (lock) throw new TooManyFailuresException(seconds(lock.msLeft));
    const slot = await this.store.increment(`address-slot:${client.address}`, this.slotSeconds);
    if (slot.count > 1) throw new TooManyFailuresException(seconds(slot.msLeft));
    return checked;
  }

  /** Counts a failed sign-in; answers the lock it put on the username, if it reached the limit. */
  async failed(username: string, client: SignInClient): Promise<UsernameLock | undefined> {
    if (this.max === 0) return undefined;
    await this.store.increment(this.pairKey(username, client), this.window);
    await this.store.increment(`address:${client.address}`, this.window);
    const failures = await this.store.increment(`user:${username}`, this.window);
    // Exactly at the limit: concurrent failures past it do not lock twice.
    if (failures.count !== this.max) return undefined;
    await this.store.delete(`user:${username}`);
    const lockNumber = ((await this.store.get(`lock-number:${username}`))?.count ?? 0) + 1;
    const lockSeconds = Math.min(this.lockMax, this.lockBase * 2 ** Math.min(lockNumber - 1, 30));
    await this.store.set(`lock-number:${username}`, lockNumber, lockSeconds + this.lockReset);
    const current = await this.store.get(`lock:${username}`);
    if (!current || current.msLeft < lockSeconds * 1000)
      await this.store.set(`lock:${username}`, lockNumber, lockSeconds);
    return { seconds: lockSeconds, lockNumber };
  }

  /**
   * A success clears the pair's count only: never the username's or the address's. Given the
   * `check` before it, a pair that had no failures then costs the store nothing.
   */
  async succeeded(username: string, client: SignInClient, checked?: SignInCheck): Promise<void> {
    if (this.max === 0 || checked?.pairFailures === 0) return;
    await this.store.delete(this.pairKey(username, client));
  }

  private pairKey(username: string, client: SignInClient): string {
    const from =
      client.device === undefined ? `address:${client.address}` : `device:${client.device}`;
    return `user-client:${username}\u0000${from}`;
  }
}
