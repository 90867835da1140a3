import fastifyRateLimit from '@fastify/rate-limit';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppSettings } from '../../config/settings.config';
import { RedisConnection } from '../../redis/redis-connection';

export { NoRateLimit } from './no-rate-limit.decorator';

/**
 * Rate limits per client address on generate and the admin endpoints: RATE_LIMIT_MAX requests per
 * RATE_LIMIT_WINDOW seconds, then 429 with Retry-After and the error envelope. Counts live in
 * @fastify/rate-limit's in-process store, or in Redis when REDIS_URL is set, shared by every
 * instance (a Redis outage lets requests through rather than refusing them all). (@nestjs/throttler 6 is CommonJS that requires the ESM-only NestJS 12, which
 * Jest on Node 20 cannot load, so the Fastify ecosystem's limiter serves instead.)
 */
export async function registerRateLimit(
  app: NestFastifyApplication,
  settings: AppSettings,
): Promise<void> {
  if (settings.rateLimitMax === 0) return;
  const redis = app.get(RedisConnection, { strict: false });
  await app.register(fastifyRateLimit, {
    global: true,
    ...(redis.client
      ? { redis: redis.client, nameSpace: `${redis.prefix}rate-limit:`, skipOnError: true }
      : {}),
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
