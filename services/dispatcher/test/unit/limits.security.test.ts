import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { indexCatalog, loadCatalogFile } from '@wa/shared/catalog';
import { createReadiness } from '@wa/shared/readiness';
import { CAMPAIGN_CACHE_MAX, RedisCampaigns } from '../../src/adapters/redis-campaigns';
import { buildApp } from '../../src/http/app';
import type { AccountState, CampaignControl, MessagingLimits, RateLimiter } from '../../src/ports';

describe('dispatcher: bounded memory and bodies', () => {
  it('the per-campaign state cache evicts (LRU) instead of growing with every campaign id jobs carry', async () => {
    const redis = { hget: async () => null } as unknown as Redis;
    const campaigns = new RedisCampaigns(redis, { keyPrefix: 't:', cacheMs: 60_000, maxCached: 100 });
    await campaigns.state('hot');
    for (let i = 0; i < 1_000; i++) {
      await campaigns.state(`c-${i}`);
      if (i % 50 === 0) await campaigns.state('hot');
    }
    expect(campaigns.cachedCount).toBe(100);
    expect(CAMPAIGN_CACHE_MAX).toBeLessThanOrEqual(100_000);
  });

  it('the admin API refuses a body far beyond the largest admission list (413), not at 64 MiB', async () => {
    const catalog = indexCatalog(loadCatalogFile(fileURLToPath(new URL('../../../../config/catalog.example.json', import.meta.url))));
    const app = buildApp({
      adminToken: 'admin-token-for-security-tests',
      registry: new Registry(),
      readiness: createReadiness(),
      catalog,
      campaigns: {} as CampaignControl,
      account: {} as AccountState,
      limiter: {} as RateLimiter,
      limits: {} as MessagingLimits,
      overflowPolicy: 'spread',
    });
    const body = JSON.stringify({ sender: { phoneNumberId: '106540352242922' }, recipients: Array(1_600_000).fill('441234567890123') });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/campaigns/c-1/admission',
      headers: { authorization: 'Bearer admin-token-for-security-tests', 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(413);
  });
});
