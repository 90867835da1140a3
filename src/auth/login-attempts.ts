import { Inject, Injectable } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../config/settings.config';

/** Where failed sign-in counts live; in process by default, replaceable by a shared store (Redis) for several instances. */
export interface LoginAttemptStore {
  /** Adds one failure to `key` and answers the count within the current window and when that window ends (epoch ms). */
  increment(key: string, windowMs: number): Promise<{ count: number; resetAt: number }>;
  get(key: string): Promise<{ count: number; resetAt: number } | undefined>;
  reset(key: string): Promise<void>;
}

export const LOGIN_ATTEMPT_STORE = Symbol('LOGIN_ATTEMPT_STORE');

const MAX_KEYS = 100000;

@Injectable()
export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly counts = new Map<string, { count: number; resetAt: number }>();

  async increment(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    const now = Date.now();
    const current = await this.get(key);
    const next = current
      ? { count: current.count + 1, resetAt: current.resetAt }
      : { count: 1, resetAt: now + windowMs };
    if (!current && this.counts.size >= MAX_KEYS) this.sweep(now);
    this.counts.set(key, next);
    return next;
  }

  async get(key: string): Promise<{ count: number; resetAt: number } | undefined> {
    const entry = this.counts.get(key);
    if (entry && entry.resetAt <= Date.now()) {
      this.counts.delete(key);
      return undefined;
    }
    return entry;
  }

  async reset(key: string): Promise<void> {
    this.counts.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.counts) if (entry.resetAt <= now) this.counts.delete(key);
    if (this.counts.size >= MAX_KEYS) this.counts.delete(this.counts.keys().next().value as string);
  }
}

/**
 * Counts failed sign-ins (Basic and session) in fixed windows of LOGIN_FAILURE_WINDOW seconds:
 * per client address, per username from that address, and per username from everywhere (five
 * times the limit). Past a limit, sign-ins answer 429 until the window ends; a success resets the
 * count of that username from that address (never the address's own count, or one valid account
 * would let an address guess other users' passwords without end). The trade-off: a distributed guesser can keep one username locked for at
 * most one window at a time, never for good, and the owner's own address keeps its own count.
 */
@Injectable()
export class LoginAttempts {
  private readonly max: number;
  private readonly windowMs: number;

  constructor(
    @Inject(settingsConfig.KEY) settings: AppSettings,
    @Inject(LOGIN_ATTEMPT_STORE) private readonly store: LoginAttemptStore,
  ) {
    this.max = settings.loginMaxFailures;
    this.windowMs = settings.loginFailureWindow * 1000;
  }

  /** Seconds to wait before signing in may be tried again, or 0. */
  async retryAfter(username: string, client = 'unknown'): Promise<number> {
    if (this.max === 0) return 0;
    let until = 0;
    for (const [key, limit] of this.limits(username, client)) {
      const entry = await this.store.get(key);
      if (entry && entry.count >= limit) until = Math.max(until, entry.resetAt);
    }
    return until === 0 ? 0 : Math.max(1, Math.ceil((until - Date.now()) / 1000));
  }

  async failed(username: string, client = 'unknown'): Promise<void> {
    if (this.max === 0) return;
    for (const [key] of this.limits(username, client))
      await this.store.increment(key, this.windowMs);
  }

  async succeeded(username: string, client = 'unknown'): Promise<void> {
    if (this.max === 0) return;
    await this.store.reset(`user-client:${username}\u0000${client}`);
  }

  private limits(username: string, client: string): [string, number][] {
    return [
      [`client:${client}`, this.max],
      [`user-client:${username}\u0000${client}`, this.max],
      [`user:${username}`, this.max * 5],
    ];
  }
}
