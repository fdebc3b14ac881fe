import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisCampaigns } from '../../src/adapters/redis-campaigns';
import type { CampaignState } from '../../src/ports';

/** A Redis whose HGETs answer only when the test says so, counting them. */
function slowRedis(initial: string | null) {
  let stored = initial;
  const waiting: (() => void)[] = [];
  const redis = {
    hgets: 0,
    hget: async () => {
      redis.hgets += 1;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return stored;
    },
  };
  const answer = () => waiting.splice(0).forEach((resolve) => resolve());
  return { redis, answer, store: (v: string | null) => (stored = v) };
}

describe('dispatcher: campaign state reads', () => {
  it('jobs that ask while a read is out share it: one HGET per campaign, not one per job in flight', async () => {
    let now = 0;
    const { redis, answer } = slowRedis('paused');
    const campaigns = new RedisCampaigns(redis as unknown as Redis, { keyPrefix: 't:', cacheMs: 1_000, clock: { now: () => now } });
    const asks: Promise<CampaignState>[] = Array.from({ length: 300 }, () => campaigns.state('c-1'));
    const other = campaigns.state('c-2');
    answer();
    expect(await Promise.all(asks)).toEqual(Array(300).fill('paused'));
    expect(await other).toBe('paused');
    expect(redis.hgets).toBe(2);
    // Cached until it is cacheMs old, then read once more.
    now = 999;
    expect(await campaigns.state('c-1')).toBe('paused');
    expect(redis.hgets).toBe(2);
    now = 1_000;
    const again = [campaigns.state('c-1'), campaigns.state('c-1')];
    answer();
    await Promise.all(again);
    expect(redis.hgets).toBe(3);
  });

  it('a read out while a change is announced answers its callers but is not cached; later asks read again', async () => {
    const { redis, answer, store } = slowRedis(null);
    const campaigns = new RedisCampaigns(redis as unknown as Redis, { keyPrefix: 't:', cacheMs: 60_000 });
    // The announcement handler, as the subscriber calls it (start() would need a real Redis).
    const announce = (id: string) => (campaigns as unknown as { forget(id: string): void }).forget(id);
    const before = campaigns.state('c-1');
    store('cancelled');
    announce('c-1');
    answer();
    expect(await before).toBe('cancelled'); // whatever Redis held when it answered
    expect(redis.hgets).toBe(1);
    const after = campaigns.state('c-1');
    answer();
    expect(await after).toBe('cancelled');
    expect(redis.hgets).toBe(2);
    // That read started after the announcement: its answer is cached.
    expect(await campaigns.state('c-1')).toBe('cancelled');
    expect(redis.hgets).toBe(2);
  });
});
