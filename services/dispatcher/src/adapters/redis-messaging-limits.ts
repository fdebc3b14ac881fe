import type { Redis } from 'ioredis';
import type { Clock, MessagingLimitResult, MessagingLimits, RecipientAdmission } from '../ports';

/**
 * Unique business-initiated recipients per portfolio in a rolling window: a ZSET waId → last send.
 * A recipient already in the window is refreshed and does not count again.
 * Sets `verdict` (1 = known recipient, 2 = new recipient admitted, 0 = refused: budget spent), `used` and `retry`.
 */
const MLIMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  verdict = 1
else
  used = redis.call('ZCARD', KEYS[1])
  if limit >= 0 and used >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, used, tonumber(oldest[2]) + window - now, 0, 0}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  verdict = 2
  used = used + 1
end`;

/**
 * One step per job before its send slot (one round trip): with ARGV[5] = '1' the messaging limit above (a
 * refusal ends the step: the pair budget is not spent), then with ARGV[6] > 0 the pair limit on KEYS[2], a fixed
 * window of ARGV[7] messages per ARGV[6] s (the layout and reply of rate-limiter-flexible's Redis limiter,
 * which kept these keys before). Returns {verdict, used, retry ms, pair messages in the window, its ms left}.
 */
const ADMIT_LUA = `
local verdict, used = 1, 0
if ARGV[5] == '1' then
${MLIMIT}
end
local secs = tonumber(ARGV[6])
if secs <= 0 then return {verdict, used, 0, 0, 0} end
redis.call('SET', KEYS[2], 0, 'EX', secs, 'NX')
local consumed = redis.call('INCRBY', KEYS[2], 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl == -1 then
  redis.call('EXPIRE', KEYS[2], secs)
  ttl = 1000 * secs
end
return {verdict, used, 0, consumed, ttl}`;

type Reply = [number, number, number, number, number];
interface MessagingLimitsRedis extends Redis {
  recipientAdmit(
    mlimitKey: string,
    pairKey: string,
    now: number,
    windowMs: number,
    limit: number,
    waId: string,
    counted: string,
    pairSeconds: number,
    pairBurst: number,
  ): Promise<Reply>;
}

export interface RedisMessagingLimitsOptions {
  keyPrefix: string;
  windowMs: number;
  pairIntervalMs: number;
  pairBurst: number;
  clock: Clock;
}

/** The portfolio messaging limit (ZSET) and the per-recipient pair limit (a fixed-window counter). */
export class RedisMessagingLimits implements MessagingLimits {
  private readonly redis: MessagingLimitsRedis;
  /** The pair limit's window in whole seconds (0: no pair limit). */
  private readonly pairSeconds: number;

  constructor(
    redis: Redis,
    private readonly options: RedisMessagingLimitsOptions,
  ) {
    if (!('recipientAdmit' in redis)) redis.defineCommand('recipientAdmit', { numberOfKeys: 2, lua: ADMIT_LUA });
    this.redis = redis as MessagingLimitsRedis;
    // A fixed window of N per interval never exceeds Meta's "burst, then one per interval" budget.
    this.pairSeconds = options.pairIntervalMs > 0 ? Math.max(1, Math.ceil(options.pairIntervalMs / 1000)) : 0;
  }

  private key(portfolioId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:mlimit:${portfolioId}`;
  }

  private pairKey(phoneNumberId: string, waId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:pair:${phoneNumberId}:${waId}`;
  }

  async admitRecipient(a: {
    portfolioId: string;
    phoneNumberId: string;
    waId: string;
    messagingLimit?: { limit: number | null };
  }): Promise<RecipientAdmission> {
    if (!a.messagingLimit && this.pairSeconds === 0) return { pair: { allowed: true, retryAfterMs: 0 } };
    const limit = a.messagingLimit?.limit ?? null;
    const [verdict, used, retryAfterMs, consumed, pairTtlMs] = await this.redis.recipientAdmit(
      this.key(a.portfolioId),
      this.pairKey(a.phoneNumberId, a.waId),
      this.options.clock.now(),
      this.options.windowMs,
      limit ?? -1,
      a.waId,
      a.messagingLimit ? '1' : '0',
      this.pairSeconds,
      this.options.pairBurst,
    );
    const messaging = a.messagingLimit ? this.result(verdict, used, retryAfterMs, limit) : undefined;
    if (messaging && !messaging.allowed) return { messaging };
    const pair = consumed > this.options.pairBurst ? { allowed: false, retryAfterMs: pairTtlMs } : { allowed: true, retryAfterMs: 0 };
    return messaging ? { messaging, pair } : { pair };
  }

  private result(verdict: number, used: number, retryAfterMs: number, limit: number | null): MessagingLimitResult {
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
}
