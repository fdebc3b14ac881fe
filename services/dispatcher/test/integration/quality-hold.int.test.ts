import { describe, expect, it } from 'vitest';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
describe('a number Meta flagged (quality RED)', () => {
  it('holds its marketing (deferred, not failed) and still sends utility; the quality gauge is 1', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 80 }]);
    await h.startSim(w.scenario);
    const keys = createRedisKeys(h.redisPrefix);
    // What the webhook service stores for a FLAGGED phone_number_quality_update (by display number).
    await h.redis.set(
      keys.phoneStateByDisplay(w.catalog.phoneNumbers[0]!.displayNumber),
      JSON.stringify({ quality: 'RED', qualityAt: new Date().toISOString(), event: 'FLAGGED', updatedAt: new Date().toISOString(), source: 'webhook' }),
      'PX',
      60_000,
    );
    const service = await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });

    const promo = job({
      to: recipient(1),
      lane: 'marketing',
      category: 'marketing',
      message: { type: 'template', template: { name: 'promo_offer', language: 'en_US', category: 'marketing', bodyParams: ['x'] } },
    });
    const utility = job({ to: recipient(2) });
    await h.produce([promo, utility]);
    await waitFor(() => h!.terminal(utility.jobId).length > 0 && h!.sent.some((e) => e.jobId === promo.jobId && e.outcome === 'deferred'), {
      timeoutMs: 30_000,
      description: 'utility sent, marketing deferred',
    });
    expect(h.terminal(utility.jobId)[0]!.outcome).toBe('sent');
    expect(h.sent.find((e) => e.jobId === promo.jobId && e.outcome === 'deferred')?.reason).toMatch(/^low_quality/);
    expect(h.terminal(promo.jobId)).toEqual([]);
    expect(h.dlq.some((d) => d.jobId === promo.jobId)).toBe(false);
    // The gauges are refreshed periodically.
    await waitFor(async () => /wa_sender_quality_low\{[^}]*sender="1001"[^}]*\} 1/.test((await service.app.inject({ url: '/metrics' })).body), {
      timeoutMs: 15_000,
      description: 'wa_sender_quality_low 1',
    });
  });
});
