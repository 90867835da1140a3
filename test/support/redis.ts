import { Redis } from 'ioredis';

/** The Redis the suites that need one use: REDIS_URL, else the local server. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connection to REDIS_URL for a test's own reads; fails loudly (never skips) when it does not answer. */
export async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `Redis does not answer at ${new URL(REDIS_URL).host}: ${(error as Error).message}. ` +
        'This suite needs Redis in every pass: start it (see .ci/run), or set REDIS_URL to one that answers.',
    );
  }
  return redis;
}
