import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Lane } from '@wa/shared/contracts/common';
import { LANES_BY_PRIORITY } from '@wa/shared/contracts/common';
import { createAdaptiveRate, slotIntervalMs, targetRate, type AdaptiveState } from '../domain/pacing';
import type { Clock, MessagingLimitResult, MessagingLimits, RateLimiter } from '../ports';

/**
 * GCRA slot reservation on Redis' own clock (TIME), so every replica shares one timeline per
 * number whatever their local clocks say. Returns the wait until the first reserved slot, in ms.
 */
const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = math.max(tat, now)
local nxt = first + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', 60000)
return string.format('%.3f|%.3f', first, now)`;

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

interface LimitsRedis extends Redis {
  gcraReserve(key: string, intervalMs: string, count: number): Promise<string>;
  messagingLimitAdmit(key: string, now: number, windowMs: number, limit: number, waId: string): Promise<[number, number, number]>;
}

function defineScripts(redis: Redis): LimitsRedis {
  if (!('gcraReserve' in redis)) {
    redis.defineCommand('gcraReserve', { numberOfKeys: 1, lua: GCRA_LUA });
    redis.defineCommand('messagingLimitAdmit', { numberOfKeys: 1, lua: MLIMIT_LUA });
  }
  return redis as LimitsRedis;
}

const lane = (w: Waiter): Lane => w.lane;

function localClockMs(): number {
  return performance.timeOrigin + performance.now();
}

interface Waiter {
  lane: Lane;
  resolve: (waitedMs: number) => void;
  reject: (err: unknown) => void;
  enqueuedAt: number;
}

export interface RedisRateLimiterOptions {
  keyPrefix: string;
  headroomFraction: number;
  decreaseFactor: number;
  coolDownMs: number;
  /** Slots are reserved at most this far ahead, so a newly arrived auth job overtakes queued marketing. */
  reserveAheadMs?: number;
  /** A slot whose timer fires later than this is re-reserved instead of used. */
  lateToleranceMs?: number;
  limitOf: (phoneNumberId: string) => number;
  clock: Clock;
}

/**
 * Per-number pacing shared by all replicas. Inside a process, waiters queue per number by lane and
 * each small batch of reserved slots goes to the highest-priority lane first (auth → utility →
 * marketing); slots are reserved only `reserveAheadMs` ahead so priority holds within ~that time.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: LimitsRedis;
  private readonly adaptive;
  private readonly adaptiveState = new Map<string, AdaptiveState>();
  private readonly queues = new Map<string, Record<Lane, Waiter[]>>();
  private readonly pumping = new Set<string>();
  private readonly reserveAheadMs: number;
  private readonly lateToleranceMs: number;
  private closed = false;
  /** Estimate of (Redis clock − local clock): the largest sample seen recently is the one with the least reply delay. */
  private offsetCur = Number.NEGATIVE_INFINITY;
  private offsetPrev = Number.NEGATIVE_INFINITY;
  private offsetRotatedAt = 0;

  constructor(
    redis: Redis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    this.redis = defineScripts(redis);
    this.adaptive = createAdaptiveRate({ decreaseFactor: options.decreaseFactor, coolDownMs: options.coolDownMs });
    this.reserveAheadMs = options.reserveAheadMs ?? 100;
    this.lateToleranceMs = options.lateToleranceMs ?? 10;
  }

  rateOf(phoneNumberId: string) {
    const limitMps = this.options.limitOf(phoneNumberId);
    const state = this.adaptiveState.get(phoneNumberId);
    const factor = state ? this.adaptive.factorAt(state, this.options.clock.now()) : 1;
    return { targetMps: targetRate(limitMps, this.options.headroomFraction, factor), limitMps, factor };
  }

  onThrottle(phoneNumberId: string): void {
    const state = this.adaptiveState.get(phoneNumberId) ?? this.adaptive.fresh();
    this.adaptiveState.set(phoneNumberId, this.adaptive.onThrottle(state, this.options.clock.now()));
  }

  acquire(phoneNumberId: string, lane: Lane): Promise<number> {
    if (this.closed) return Promise.reject(new Error('rate limiter closed'));
    let q = this.queues.get(phoneNumberId);
    if (!q) {
      q = { auth: [], utility: [], marketing: [] };
      this.queues.set(phoneNumberId, q);
    }
    const enqueuedAt = this.options.clock.now();
    const queue = q[lane];
    const promise = new Promise<number>((resolve, reject) => {
      queue.push({ lane, resolve, reject, enqueuedAt });
    });
    void this.pump(phoneNumberId);
    return promise;
  }

  private waiting(q: Record<Lane, Waiter[]>): number {
    return q.auth.length + q.utility.length + q.marketing.length;
  }

  private take(q: Record<Lane, Waiter[]>, n: number): Waiter[] {
    const out: Waiter[] = [];
    for (const lane of LANES_BY_PRIORITY) {
      while (out.length < n && q[lane].length > 0) out.push(q[lane].shift()!);
    }
    return out;
  }

  private async pump(phoneNumberId: string): Promise<void> {
    if (this.pumping.has(phoneNumberId)) return;
    this.pumping.add(phoneNumberId);
    const q = this.queues.get(phoneNumberId)!;
    const key = `${this.options.keyPrefix}wa:dispatch:rate:${phoneNumberId}`;
    try {
      while (!this.closed && this.waiting(q) > 0) {
        const { targetMps } = this.rateOf(phoneNumberId);
        const interval = slotIntervalMs(targetMps);
        const n = Math.min(this.waiting(q), Math.max(1, Math.floor(this.reserveAheadMs / interval)));
        let firstWaitMs: number;
        try {
          const reply = await this.redis.gcraReserve(key, interval.toFixed(4), n);
          const [first, redisNow] = reply.split('|').map(Number) as [number, number];
          // Slots are converted to local time through a stable clock offset, not "reply time + wait":
          // a reply delayed by a busy pipeline must not shift (and so bunch) the slots it carries.
          const localNow = localClockMs();
          const offset = this.observeOffset(redisNow - localNow, localNow);
          firstWaitMs = first - offset - localNow;
        } catch (err) {
          for (const w of this.take(q, this.waiting(q))) w.reject(err);
          return;
        }
        const batch = this.take(q, n);
        const base = localClockMs();
        batch.forEach((w, i) => {
          const wait = firstWaitMs + i * interval;
          const due = base + wait;
          const fire = () => {
            // A slot whose timer fired late (event-loop stall) is given up: sending now would bunch it
            // with the slots after it, and a sliding second could then hold more than the rate.
            const at = localClockMs();
            const recent = this.recentSends(phoneNumberId, at);
            // ...unless this process' own sends of the last second leave room for it anyway.
            if (at - due > this.lateToleranceMs && recent.length + 1 > Math.floor(interval > 0 ? 1000 / interval : 1) - 1) {
              this.requeue(phoneNumberId, lane(w), w);
              return;
            }
            recent.push(at);
            w.resolve(this.options.clock.now() - w.enqueuedAt);
          };
          if (wait < 0.5) fire();
          else setTimeout(fire, wait);
        });
        // Do not reserve further ahead than reserveAheadMs: later arrivals of a higher lane go first.
        const batchEndMs = firstWaitMs + n * interval;
        if (batchEndMs > this.reserveAheadMs) await new Promise((r) => setTimeout(r, batchEndMs - this.reserveAheadMs));
      }
    } finally {
      this.pumping.delete(phoneNumberId);
    }
  }

  private readonly sendLog = new Map<string, number[]>();

  /** This process' send times for a number within the last second (oldest first). */
  private recentSends(phoneNumberId: string, at: number): number[] {
    let log = this.sendLog.get(phoneNumberId);
    if (!log) this.sendLog.set(phoneNumberId, (log = []));
    let drop = 0;
    while (drop < log.length && log[drop]! <= at - 1000) drop++;
    if (drop > 0) log.splice(0, drop);
    return log;
  }

  private requeue(phoneNumberId: string, laneName: Lane, w: Waiter): void {
    this.lateSlots++;
    this.queues.get(phoneNumberId)?.[laneName].unshift(w);
    void this.pump(phoneNumberId);
  }

  /** Slots given up because their timer fired too late (a measure of event-loop stalls). */
  lateSlots = 0;

  /** Samples Redis' clock a few times before the first reservation, so the first slots are placed right. */
  async calibrate(samples = 8): Promise<void> {
    for (let i = 0; i < samples; i++) {
      const [sec, micro] = await this.redis.time();
      const localNow = localClockMs();
      this.observeOffset(Number(sec) * 1000 + Number(micro) / 1000 - localNow, localNow);
    }
  }

  private observeOffset(sample: number, localNow: number): number {
    if (localNow - this.offsetRotatedAt > 5_000) {
      this.offsetPrev = this.offsetCur;
      this.offsetCur = Number.NEGATIVE_INFINITY;
      this.offsetRotatedAt = localNow;
    }
    if (sample > this.offsetCur) this.offsetCur = sample;
    return Math.max(this.offsetCur, this.offsetPrev);
  }

  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) for (const w of this.take(q, this.waiting(q))) w.reject(new Error('rate limiter closed'));
  }
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
  private readonly redis: LimitsRedis;
  private readonly pair: RateLimiterRedis | undefined;

  constructor(
    redis: Redis,
    private readonly options: RedisMessagingLimitsOptions,
  ) {
    this.redis = defineScripts(redis);
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
    const [verdict, used, retryAfterMs] = await this.redis.messagingLimitAdmit(this.key(portfolioId), this.options.clock.now(), this.options.windowMs, limit ?? -1, waId);
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
