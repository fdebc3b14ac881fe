import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { RedisMessagingLimits } from '../../src/adapters/redis-messaging-limits';

const DAY_MS = 24 * 3_600_000;

let redis: Redis;
let prefix: string;
beforeAll(async () => {
  prefix = `${uniqueName('mlimits')}:`;
  redis = createRedis(testInfra().redisUrl);
  await redis.connect();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

/** Limits on a settable clock (the messaging window follows it; the pair window is Redis' TTL on real time). */
function limitsAt(p: string, pair: { intervalMs: number; burst: number } = { intervalMs: 6_000, burst: 1 }) {
  let now = Date.parse('2026-03-01T09:00:00Z');
  const limits = new RedisMessagingLimits(redis, {
    keyPrefix: p,
    windowMs: DAY_MS,
    pairIntervalMs: pair.intervalMs,
    pairBurst: pair.burst,
    clock: { now: () => now },
  });
  return { limits, advance: (ms: number) => (now += ms) };
}

describe('messaging and pair limits in one Redis step (Redis)', () => {
  it('counts new business-initiated recipients up to the limit; a known one does not count again; a refusal spends no pair budget', async () => {
    const p = `${prefix}a:`;
    const { limits, advance } = limitsAt(p);
    const counted = (waId: string, number = 'N1') => limits.admitRecipient({ portfolioId: 'P', phoneNumberId: number, waId, messagingLimit: { limit: 2 } });
    expect(await counted('491')).toEqual({ messaging: { allowed: true, newRecipient: true }, pair: { allowed: true, retryAfterMs: 0 } });
    expect(await counted('492')).toEqual({ messaging: { allowed: true, newRecipient: true }, pair: { allowed: true, retryAfterMs: 0 } });
    // Known recipient from another number: the budget is the portfolio's, the pair limit the number's.
    expect(await counted('491', 'N2')).toEqual({ messaging: { allowed: true, newRecipient: false }, pair: { allowed: true, retryAfterMs: 0 } });
    advance(60_000);
    const refused = await counted('493');
    expect(refused.pair).toBeUndefined();
    expect(refused.messaging).toMatchObject({ allowed: false, used: 2, limit: 2 });
    // Until the oldest recipient leaves the rolling 24 h: 24 h after its send, 1 min ago.
    expect(refused.messaging?.allowed === false && refused.messaging.retryAfterMs).toBe(DAY_MS - 60_000);
    expect(await redis.exists(`${p}wa:dispatch:pair:N1:493`)).toBe(0);
    expect(await limits.used('P')).toBe(2);
    await limits.forget('P', '492');
    expect((await counted('493')).messaging).toEqual({ allowed: true, newRecipient: true });
  });

  it('holds a second message to one recipient from one number within the pair interval, with the time left; not-counted messages skip the messaging limit', async () => {
    const p = `${prefix}b:`;
    const { limits } = limitsAt(p, { intervalMs: 6_000, burst: 2 });
    const free = () => limits.admitRecipient({ portfolioId: 'P', phoneNumberId: 'N1', waId: '491' });
    expect(await free()).toEqual({ pair: { allowed: true, retryAfterMs: 0 } });
    expect(await free()).toEqual({ pair: { allowed: true, retryAfterMs: 0 } });
    const third = await free();
    expect(third.messaging).toBeUndefined();
    expect(third.pair?.allowed).toBe(false);
    expect(third.pair!.retryAfterMs).toBeGreaterThan(5_000);
    expect(third.pair!.retryAfterMs).toBeLessThanOrEqual(6_000);
    expect(await limits.used('P')).toBe(0);
    // The layout rate-limiter-flexible kept before (a counter with the window's TTL), so keys of a running version carry over.
    expect(await redis.get(`${p}wa:dispatch:pair:N1:491`)).toBe('3');
    expect(await redis.pttl(`${p}wa:dispatch:pair:N1:491`)).toBeGreaterThan(5_000);
    // Another number may message the same person.
    expect((await limits.admitRecipient({ portfolioId: 'P', phoneNumberId: 'N2', waId: '491' })).pair?.allowed).toBe(true);
  });

  it('without a pair limit, a message that does not count needs no Redis step', async () => {
    const p = `${prefix}c:`;
    const { limits } = limitsAt(p, { intervalMs: 0, burst: 1 });
    expect(await limits.admitRecipient({ portfolioId: 'P', phoneNumberId: 'N1', waId: '491' })).toEqual({ pair: { allowed: true, retryAfterMs: 0 } });
    expect(await limits.admitRecipient({ portfolioId: 'P', phoneNumberId: 'N1', waId: '491', messagingLimit: { limit: null } })).toEqual({
      messaging: { allowed: true, newRecipient: true },
      pair: { allowed: true, retryAfterMs: 0 },
    });
    expect(await redis.keys(`${p}wa:dispatch:pair:*`)).toEqual([]);
  });
});
