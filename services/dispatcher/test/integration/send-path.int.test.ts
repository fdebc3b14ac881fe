import { describe, expect, it } from 'vitest';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, WABA, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);
const { services } = dispatchers;
const startDispatcher = dispatchers.start;

// Rate-limit behaviour (throughput, tier changes, replicas) is in rate-limits.int.test.ts, against processes.
describe('dispatcher send path (real Kafka, Redis, simulator)', () => {
  it('applies compliance gates, dead-letters permanent failures and retries transient ones to success', async () => {
    h = new Harness();
    await h.setup();
    const notOnWa = recipient(900);
    const w = world([{ id: '1001', mps: 200 }], {
      scenario: {
        faults: { transientFraction: 0.3, transientHttpStatus: 500, ecosystemThrottleFraction: 0, latency: { kind: 'none' } },
        population: { overrides: { [notOnWa]: 'not_on_whatsapp' } } as never,
      },
    });
    w.scenario.population = {
      notOnWhatsAppFraction: 0,
      optedOutMarketingFraction: 0,
      experimentFraction: 0,
      replyFraction: 0,
      stopFraction: 0,
      readFraction: 0,
      overrides: { [notOnWa]: 'not_on_whatsapp' },
    };
    await h.startSim(w.scenario);
    const keys = createRedisKeys(h.redisPrefix);
    const optedOut = recipient(901);
    const windowOpen = recipient(902);
    await h.redis.set(keys.optOut(WABA, optedOut), '1');
    await h.redis.set(keys.serviceWindow('1001', windowOpen), String(Date.now() - 3_600_000));
    // the simulator tracks its own windows: open it there too with an inbound message
    h.sim!.inbound({ phoneNumberId: '1001', from: windowOpen, text: 'hi' });
    // 30 % of requests fail transiently, drawn per request: with the default 5 attempts, one of the
    // ~63 jobs that must end 'sent' exhausts its retries in ~14 % of runs (0.3^5 each); 12 attempts
    // make that ~3e-5, so the test pins "retried to success", not the odds.
    await startDispatcher(h, w.catalog, { RETRY_MAX_ATTEMPTS: '12' });

    const promo = { type: 'template' as const, template: { name: 'promo_offer', language: 'en_US', category: 'marketing' as const, bodyParams: ['x'] } };
    const text = { type: 'text' as const, text: { body: 'Your parcel is at the door' } };
    const special = {
      permanent: job({ to: notOnWa }),
      optedOutPromo: job({ to: optedOut, lane: 'marketing', category: 'marketing', message: promo }),
      optedOutUtility: job({ to: optedOut }),
      textInWindow: job({ to: windowOpen, category: 'service', message: text }),
      textNoWindow: job({ to: recipient(903), category: 'service', message: text }),
      textFallback: job({
        to: recipient(904),
        category: 'service',
        message: text,
        fallbackTemplate: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-9'] },
      }),
      badParams: job({
        to: recipient(905),
        message: { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: [] } },
      }),
      unknownTemplate: job({ to: recipient(906), message: { type: 'template', template: { name: 'no_such', language: 'en_US', category: 'utility' } } }),
      expired: job({ to: recipient(907), expiresAt: new Date(Date.now() - 1_000).toISOString() }),
    };
    const normal = Array.from({ length: 60 }, (_, i) => job({ to: recipient(i) }));
    await h.produce([...Object.values(special), ...normal]);
    const all = [...Object.values(special), ...normal];
    await waitFor(() => all.every((j) => h!.terminal(j.jobId).length > 0), { timeoutMs: 60_000, description: 'a terminal outcome for every job' });

    const outcome = (j: { jobId: string }) => h!.terminal(j.jobId)[0]!;
    expect(outcome(special.permanent)).toMatchObject({ outcome: 'failed', errorCode: 131026, errorClass: 'permanent' });
    expect(h.dlq.find((d) => d.jobId === special.permanent.jobId)).toMatchObject({ reason: 'permanent_error', errorCode: 131026 });
    expect(outcome(special.optedOutPromo)).toMatchObject({ outcome: 'rejected' });
    expect(h.dlq.find((d) => d.jobId === special.optedOutPromo.jobId)?.reason).toBe('opted_out');
    expect(outcome(special.optedOutUtility).outcome).toBe('sent');
    expect(outcome(special.textInWindow)).toMatchObject({ outcome: 'sent', category: 'service' });
    expect(h.dlq.find((d) => d.jobId === special.textNoWindow.jobId)?.reason).toBe('outside_service_window');
    expect(outcome(special.textFallback)).toMatchObject({ outcome: 'sent', category: 'utility', template: 'order_update' });
    expect(h.dlq.find((d) => d.jobId === special.badParams.jobId)?.reason).toBe('template_params_mismatch');
    expect(h.dlq.find((d) => d.jobId === special.unknownTemplate.jobId)?.reason).toBe('unknown_template');
    expect(outcome(special.expired).outcome).toBe('expired');

    // transient 500s were retried through the retry topics and every normal job got through
    expect(
      normal
        .map(outcome)
        .filter((e) => e.outcome !== 'sent')
        .map((e) => ({ jobId: e.jobId, outcome: e.outcome, reason: e.reason })),
    ).toEqual([]);
    const retried = h.sent.filter((e) => e.outcome === 'retry_scheduled');
    expect(retried.length).toBeGreaterThan(5);
    expect(retried.every((e) => e.errorClass === 'transient')).toBe(true);
    expect(h.simStats().duplicateSends.count).toBe(0);
  });

  it('messaging limit stops new recipients but not already-messaged ones', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 500 }], { messagingLimit: 250 });
    w.catalog.businesses[0]!.messagingLimit = 10_000; // the live value from Redis (webhook) must win
    await h.startSim(w.scenario);
    const keys = createRedisKeys(h.redisPrefix);
    await h.redis.set(keys.messagingLimit(WABA), JSON.stringify({ limit: 250, event: 'TIER_250', updatedAt: new Date().toISOString() }));
    await startDispatcher(h, w.catalog, { PAIR_LIMIT_INTERVAL_MS: '0' });
    const first = Array.from({ length: 250 }, (_, i) => job({ to: recipient(i) }));
    await h.produce(first);
    await waitFor(() => first.every((j) => h!.terminal(j.jobId).length > 0), { timeoutMs: 30_000, description: 'first 250 sent' });
    const again = Array.from({ length: 20 }, (_, i) => job({ to: recipient(i) }));
    const fresh = Array.from({ length: 20 }, (_, i) => job({ to: recipient(1_000 + i) }));
    await h.produce([...fresh, ...again]);
    await waitFor(() => again.every((j) => h!.terminal(j.jobId).length > 0), { timeoutMs: 30_000, description: 'known recipients sent' });
    await waitFor(() => fresh.every((j) => h!.sent.some((e) => e.jobId === j.jobId && e.outcome === 'deferred')), {
      timeoutMs: 30_000,
      description: 'new recipients held',
    });
    expect(again.every((j) => h!.terminal(j.jobId)[0]!.outcome === 'sent')).toBe(true);
    expect(fresh.every((j) => h!.terminal(j.jobId).length === 0)).toBe(true);
    const stats = h.simStats();
    expect(stats.accepted).toBe(270);
    expect(Object.keys(stats.rejectedByCode)).toEqual([]);
    const res = await services[0]!.app.inject({ method: 'GET', url: '/v1/senders', headers: { authorization: 'Bearer admin-secret-token' } });
    expect(res.json().senders[0]).toMatchObject({ messagingLimit: 250, messagingBudgetUsed: 250 });
  });
});
