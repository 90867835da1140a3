import { Injectable } from '@nestjs/common';
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';

/** A count and how long it still lives, in milliseconds. */
export interface LoginAttemptCount {
  count: number;
  msLeft: number;
}

/**
 * Where sign-in failure counts, locks and their levels live. In process by default; a fleet
 * replaces it (provider LOGIN_ATTEMPT_STORE) with one shared by every instance, such as
 * `new RateLimiterLoginAttemptStore(new RateLimiterRedis({ storeClient, keyPrefix }))`.
 */
export interface LoginAttemptStore {
  /**
   * Adds one to `key` atomically (two concurrent calls never see the same count); a new count
   * lives `ttlSeconds` from its first hit (a fixed window).
   */
  increment(key: string, ttlSeconds: number): Promise<LoginAttemptCount>;
  /**
   * Takes one back from `key` (a reserved try that turned out not to count); a count that this
   * leaves at zero or below (the key expired or was deleted meanwhile) is deleted, never kept.
   */
  decrement(key: string): Promise<void>;
  /** The live count of `key`, else undefined. */
  get(key: string): Promise<LoginAttemptCount | undefined>;
  /** Replaces `key` with `count`, living `ttlSeconds` from now. */
  set(key: string, count: number, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export const LOGIN_ATTEMPT_STORE = Symbol('LOGIN_ATTEMPT_STORE');

/** The store over any rate-limiter-flexible limiter: atomic counters in memory, Redis and others. */
export class RateLimiterLoginAttemptStore implements LoginAttemptStore {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async increment(key: string, ttlSeconds: number): Promise<LoginAttemptCount> {
    const res = await this.limiter.penalty(key, 1, { customDuration: ttlSeconds });
    return { count: res.consumedPoints, msLeft: res.msBeforeNext };
  }

  async decrement(key: string): Promise<void> {
    const res = await this.limiter.reward(key, 1);
    if (res.consumedPoints <= 0) await this.limiter.delete(key);
  }

  async get(key: string): Promise<LoginAttemptCount | undefined> {
    const res = await this.limiter.get(key);
    // An in-memory record may outlive its expiry by a timer tick: treat it as gone.
    return res && res.msBeforeNext > 0
      ? { count: res.consumedPoints, msLeft: res.msBeforeNext }
      : undefined;
  }

  async set(key: string, count: number, ttlSeconds: number): Promise<void> {
    await this.limiter.set(key, count, ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** The default: this process's memory (each key dropped when its time is up). */
@Injectable()
export class InMemoryLoginAttemptStore extends RateLimiterLoginAttemptStore {
  constructor() {
    // Points and duration are unused: every call gives its own count and lifetime.
    super(new RateLimiterMemory({ keyPrefix: 'login', points: 1, duration: 1 }));
  }
}
