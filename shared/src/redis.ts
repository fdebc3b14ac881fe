import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelayMs } from './backoff';

export type { Redis } from 'ioredis';

/**
 * An ioredis client that connects in `connect()`, not in the constructor, and fails commands fast
 * while disconnected instead of queueing them without bound.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => backoffDelayMs(attempt, { baseMs: 100, maxMs: 2_000, jitter: 'none' }),
    ...options,
  });
}
