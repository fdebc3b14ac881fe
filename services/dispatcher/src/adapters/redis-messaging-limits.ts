import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock, MessagingLimitResult, MessagingLimits } from '../ports';

/**
 * Unique business-initiated recipients per portfolio in a rolling window: a ZSET waId → last send.
 * A recipient already in the window is refreshed and does not count again.
 * Returns 1 = known recipient, 2 = new recipient admitted, 0 = refused (budget spent).
 */
const MLIMIT_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  return {1, 0, 0}
end
local used = redis.call('ZCARD', KEYS[1])
if limit >= 0 and used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, used, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {2, used + 1, 0}`;

interface MessagingLimitsRedis extends Redis {
  messagingLimitAdmit(key: string, now: number, windowMs: number, limit: number, waId: string): Promise<[number, number, number]>;
}

export interface RedisMessagingLimitsOptions {
  keyPrefix: string;
  windowMs: number;
  pairIntervalMs: number;
  pairBurst: number;
  clock: Clock;
}

/** The portfolio messaging limit (ZSET) and the per-recipient pair limit (rate-limiter-flexible). */
export class RedisMessagingLimits implements MessagingLimits {
  private readonly redis: MessagingLimitsRedis;
  private readonly pair: RateLimiterRedis | undefined;

  constructor(
    redis: Redis,
    private readonly options: RedisMessagingLimitsOptions,
  ) {
    if (!('messagingLimitAdmit' in redis)) redis.defineCommand('messagingLimitAdmit', { numberOfKeys: 1, lua: MLIMIT_LUA });
    this.redis = redis as MessagingLimitsRedis;
    this.pair =
      options.pairIntervalMs > 0
        ? new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `${options.keyPrefix}wa:dispatch:pair`,
            points: options.pairBurst,
            // A fixed window of N per interval never exceeds Meta's "burst, then one per interval" budget.
            duration: Math.max(1, Math.ceil(options.pairIntervalMs / 1000)),
          })
        : undefined;
  }

  private key(portfolioId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:mlimit:${portfolioId}`;
  }

  async admit(portfolioId: string, waId: string, limit: number | null): Promise<MessagingLimitResult> {
    const [verdict, used, retryAfterMs] = await this.redis.messagingLimitAdmit(
      this.key(portfolioId),
      this.options.clock.now(),
      this.options.windowMs,
      limit ?? -1,
      waId,
    );
    if (verdict === 0) return { allowed: false, used, limit: limit ?? -1, retryAfterMs: Math.max(1_000, retryAfterMs) };
    return { allowed: true, newRecipient: verdict === 2 };
  }

  async forget(portfolioId: string, waId: string): Promise<void> {
    await this.redis.zrem(this.key(portfolioId), waId);
  }

  async used(portfolioId: string): Promise<number> {
    const key = this.key(portfolioId);
    await this.redis.zremrangebyscore(key, '-inf', this.options.clock.now() - this.options.windowMs);
    return this.redis.zcard(key);
  }

  async countNew(portfolioId: string, waIds: readonly string[]): Promise<number> {
    if (waIds.length === 0) return 0;
    const lo = this.options.clock.now() - this.options.windowMs;
    let fresh = 0;
    for (let i = 0; i < waIds.length; i += 1_000) {
      const chunk = waIds.slice(i, i + 1_000);
      const scores = await this.redis.zmscore(this.key(portfolioId), ...chunk);
      for (const s of scores) if (s === null || Number(s) <= lo) fresh++;
    }
    return fresh;
  }

  async pairAllowed(phoneNumberId: string, waId: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    if (!this.pair) return { allowed: true, retryAfterMs: 0 };
    try {
      await this.pair.consume(`${phoneNumberId}:${waId}`);
      return { allowed: true, retryAfterMs: 0 };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: err.msBeforeNext };
      throw err;
    }
  }
}
