import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { testInfra, uniqueName } from '@wa/shared/testing';
import { RedisState } from '../../src/adapters/redis-state';

const DAY_MS = 86_400_000;
const HORIZON_S = 8 * 86_400;

/**
 * The normaliser's dedupe markers on a real Redis, with an injected clock: an event marked forwarded is
 * found in whichever window it was written to for the whole horizon, and only the events marked are.
 */
describe('webhook dedupe markers (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let nowMs = Date.UTC(2026, 11, 7, 10);
  const clock = { now: () => nowMs };
  const state = () => new RedisState(redis, createRedisKeys(prefix), { dedupeTtlS: HORIZON_S, dedupeBucketBits: 4, clock });

  beforeAll(async () => {
    redis = createRedis(testInfra().redisUrl);
    await redis.connect();
    prefix = `${uniqueName('dedupe')}:`;
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('finds exactly the marked events of a batch, in every window of the horizon', async () => {
    const marked = Array.from({ length: 200 }, (_, i) => `wamid.marked-${i}-sent`);
    const fresh = Array.from({ length: 200 }, (_, i) => `wamid.fresh-${i}-sent`);
    const s = state();
    expect(await s.seen(marked)).toEqual(new Set());
    await s.markSeen(marked);

    const mixed = marked.flatMap((id, i) => [id, fresh[i]!]);
    expect(await s.seen(mixed)).toEqual(new Set(marked));
    // Later windows: the markers stay where they were written and are still looked up there.
    for (const days of [1, 3, 7]) {
      nowMs += days * DAY_MS;
      expect(await s.seen(mixed)).toEqual(new Set(marked));
      nowMs -= days * DAY_MS;
    }
    // Marked again in a later window: found once, not twice.
    nowMs += 2 * DAY_MS;
    await s.markSeen(marked.slice(0, 10));
    expect(await s.seen(marked.slice(0, 20))).toEqual(new Set(marked.slice(0, 20)));
    nowMs -= 2 * DAY_MS;
  });

  it('stops looking in a window once the horizon, its window and the clock slack are past', async () => {
    const s = state();
    const ids = ['wamid.old-1-read', 'wamid.old-2-read'];
    await s.markSeen(ids);
    nowMs += 2 * DAY_MS;
    expect(await s.seen(ids)).toEqual(new Set(ids));
    nowMs += HORIZON_S * 1000 + 2 * DAY_MS;
    expect(await s.seen(ids)).toEqual(new Set());
  });
});
