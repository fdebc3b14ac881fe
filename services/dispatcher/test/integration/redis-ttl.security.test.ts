import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { CAMPAIGN_COUNTS_TTL_S, RedisCampaigns } from '../../src/adapters/redis-campaigns';

// Keys created by traffic (not by an operator) expire: campaign outcome counts live 90 days past the last outcome.
let redis: Redis;
let prefix: string;
beforeAll(async () => {
  redis = createRedis(testInfra().redisUrl);
  await redis.connect();
  prefix = `${uniqueName('sec-ttl')}:`;
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

describe('dispatcher Redis keys written by traffic have a TTL', () => {
  it('campaign outcome counts expire CAMPAIGN_COUNTS_TTL_S after the last counted outcome', async () => {
    const campaigns = new RedisCampaigns(redis, { keyPrefix: prefix, cacheMs: 1_000 });
    campaigns.count('camp-1', 'sent');
    campaigns.count('camp-1', 'sent');
    expect(await campaigns.counts('camp-1')).toEqual({ sent: 2 });
    const ttl = await redis.ttl(`${prefix}wa:dispatch:campaign-counts:camp-1`);
    expect(ttl).toBeGreaterThan(CAMPAIGN_COUNTS_TTL_S - 60);
    expect(ttl).toBeLessThanOrEqual(CAMPAIGN_COUNTS_TTL_S);
  });
});
