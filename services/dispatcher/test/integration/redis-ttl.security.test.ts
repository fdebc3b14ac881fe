import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { campaignKey, CAMPAIGN_TTL_SECONDS } from '@wa/shared/campaigns';
import { RedisCampaigns } from '../../src/adapters/redis-campaigns';

// Keys created by traffic expire: a campaign's record (state and outcome counts) lives CAMPAIGN_TTL_SECONDS past its last write.
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
  it('a campaign record written by outcome counts carries the campaign TTL', async () => {
    const campaigns = new RedisCampaigns(redis, { keyPrefix: prefix, cacheMs: 1_000 });
    campaigns.count('camp-1', 'sent');
    campaigns.count('camp-1', 'sent');
    expect((await campaigns.summary('camp-1'))?.outcomes).toMatchObject({ sent: 2 });
    const ttl = await redis.ttl(campaignKey(prefix, 'camp-1'));
    expect(ttl).toBeGreaterThan(CAMPAIGN_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(CAMPAIGN_TTL_SECONDS);
  });
});
