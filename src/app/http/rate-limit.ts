import fastifyRateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AppSettings } from '../../config/settings.config';
import { clientNetwork } from './client-network';
import { RedisConnection } from '../redis/redis-connection';

type StoreCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * @fastify/rate-limit's store over a rate-limiter-flexible limiter: a fixed window per key, as the
 * plugin's own stores count, with the limiter's fallback to process memory while Redis is away.
 */
function limiterStore(limiter: RateLimiterAbstract) {
  return class LimiterStore implements FastifyRateLimitStore {
    constructor(
      _params?: unknown,
      private readonly routeKey = '',
    ) {}

    incr(key: string, done: StoreCallback, timeWindow: number): void {
      limiter
        .penalty(`${this.routeKey}${key}`, 1, { customDuration: Math.ceil(timeWindow / 1000) })
        .then(
          (res) => done(null, { current: res.consumedPoints, ttl: res.msBeforeNext }),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
    }

    /** A route with limits of its own counts apart, as the plugin's stores do. */
    child(routeOptions: object): LimiterStore {
      // The plugin passes its merged options with the route under routeInfo, not what its types say.
      const { method, url } = (routeOptions as { routeInfo: { method?: string; url?: string } })
        .routeInfo;
      return new LimiterStore(undefined, `${this.routeKey}${method}${url}-`);
    }
  };
}

/**
 * Rate limits per client address (an IPv6 client's /64: clientNetwork) on generate and the admin endpoints: RATE_LIMIT_MAX requests per
 * RATE_LIMIT_WINDOW seconds, then 429 with Retry-After and the error envelope. Counts live in
 * @fastify/rate-limit's in-process store, or in Redis when REDIS_URL is set, shared by every
 * instance; while Redis does not answer they are kept in this process (RedisConnection.limiter).
 * (@nestjs/throttler 6 is CommonJS that requires the ESM-only NestJS 12, which Jest on Node 20
 * cannot load, so the Fastify ecosystem's limiter serves instead.)
 */
export async function registerRateLimit(
  app: NestFastifyApplication,
  settings: AppSettings,
): Promise<void> {
  if (settings.rateLimitMax === 0) return;
  const limiter = app.get(RedisConnection, { strict: false }).limiter('rate-limit');
  await app.register(fastifyRateLimit, {
    global: true,
    // The limiter falls back to memory by itself; skipping is for what that cannot cover.
    ...(limiter ? { store: limiterStore(limiter), skipOnError: true } : {}),
    keyGenerator: (request) => clientNetwork(request.ip),
    max: settings.rateLimitMax,
    timeWindow: settings.rateLimitWindow * 1000,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
    },
    errorResponseBuilder: (_request, context) =>
      new HttpException(
        `too many requests: try again in ${context.after}`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
  });
}
