import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '@wa/shared/clock';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { createRedisIdempotencyStore } from '../../src/adapters/redis-idempotency';

const DAY = 24 * 3_600_000;

describe('Redis idempotency store (bucketed)', () => {
  const redis = createRedis(testInfra().redisUrl);
  const prefix = `${uniqueName('idem')}:`;
  const clock = createManualClock(Date.UTC(2026, 2, 1, 23, 59));
  const store = createRedisIdempotencyStore(redis, { keyPrefix: prefix, ttlSeconds: 7 * 24 * 3_600, bucketBits: 2, clock });
  afterAll(async () => {
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
  });

  it('new, then owned for the same owner and duplicate for another, across day windows, until the horizon', async () => {
    expect(
      await store.claim([
        { key: 'a', owner: 'o1' },
        { key: 'b', owner: 'o1' },
        { key: 'a', owner: 'o2' },
      ]),
    ).toEqual(['new', 'new', 'duplicate']);
    clock.advance(2 * 60_000); // the next day's window
    expect(
      await store.claim([
        { key: 'a', owner: 'o1' },
        { key: 'a', owner: 'o2' },
        { key: 'c', owner: 'o2' },
      ]),
    ).toEqual(['owned', 'duplicate', 'new']);
    clock.advance(7 * DAY - 5 * 60_000); // still within 7 days of the first claim
    expect(await store.claim([{ key: 'a', owner: 'o3' }])).toEqual(['duplicate']);
  });

  it('every bucket has a TTL covering the horizon', async () => {
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
  });

  it('release removes only the owner’s claim', async () => {
    expect(await store.claim([{ key: 'r', owner: 'o1' }])).toEqual(['new']);
    await store.release([{ key: 'r', owner: 'o2' }]);
    expect(await store.claim([{ key: 'r', owner: 'o2' }])).toEqual(['duplicate']);
    await store.release([{ key: 'r', owner: 'o1' }]);
    expect(await store.claim([{ key: 'r', owner: 'o2' }])).toEqual(['new']);
  });

  it('a key claimed in the layout before the buckets still counts, and is released by its owner', async () => {
    await redis.set(`${prefix}ingest:idem:legacy`, 'old-owner', 'EX', 600);
    expect(
      await store.claim([
        { key: 'legacy', owner: 'old-owner' },
        { key: 'legacy', owner: 'other' },
      ]),
    ).toEqual(['owned', 'duplicate']);
    await store.release([{ key: 'legacy', owner: 'old-owner' }]);
    expect(await redis.exists(`${prefix}ingest:idem:legacy`)).toBe(0);
    expect(await store.claim([{ key: 'legacy', owner: 'other' }])).toEqual(['new']);
  });
});
