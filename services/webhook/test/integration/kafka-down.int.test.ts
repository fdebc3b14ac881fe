import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEventV1, StatusEventV1 } from '@wa/shared/contracts/events';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { listenLocal, waitFor } from '@wa/shared/testing';
import { createSimulator, DEFAULT_PHONE_NUMBER_IDS, DEFAULT_WABA_ID, type Simulator } from '@wa/cloud-api-sim';
import { createWebhookService, type WebhookService } from '../../src/service';
import * as f from '../fixtures';
import { closedPort, createHarness, post, SECRET, type Collector, type Harness } from './harness';

/**
 * "Kafka down" without touching the shared broker: instance A points at a port nothing listens on,
 * so it can never persist and must answer 503; instance B points at the real broker. The sender
 * (the Cloud API simulator, then a plain client with the same bytes) retries until B acknowledges.
 */
describe('Kafka unavailable → 503, then the retried delivery lands exactly once', () => {
  let h: Harness;
  let down: WebhookService;
  let up: WebhookService | undefined;
  let downUrl: string;
  let sim: Simulator;
  let inbound: Collector;
  let status: Collector;
  let raw: Collector;

  beforeAll(async () => {
    h = await createHarness();
    const port = await closedPort();
    down = createWebhookService(h.config({ KAFKA_BROKERS: `127.0.0.1:${port}`, WEBHOOK_PRODUCE_TIMEOUT_MS: '500', LOG_LEVEL: 'silent' }));
    await down.start();
    downUrl = await listenLocal(down.app);
    sim = createSimulator({
      scenario: {
        appSecret: SECRET,
        webhooks: { duplicateFraction: 0, retry: { baseMs: 250, factor: 2, maxDelayMs: 1_000, maxAttempts: 200, maxAgeMs: 600_000 } },
      },
      webhookUrl: `${downUrl}/webhook`,
    });
    [inbound, status, raw] = await Promise.all([h.collect(h.names.inbound), h.collect(h.names.status), h.collect(h.names.raw)]);
  });

  afterAll(async () => {
    await sim?.close();
    await down?.close();
    await up?.close();
    await h?.cleanup();
  });

  it('the simulator is refused with 503 while Kafka is unreachable and its retry lands once on the second instance', async () => {
    const readyz = await fetch(`${downUrl}/readyz`);
    expect(readyz.status).toBe(503);
    const person = `4479${String(Date.now()).slice(-8)}`;
    sim.inbound({ phoneNumberId: DEFAULT_PHONE_NUMBER_IDS[0], from: person, text: 'STOP' });
    // Meta (the simulator) gets 503 answers, not connection errors, and keeps retrying.
    await waitFor(
      () => {
        const w = (sim.stats() as { webhooks: { failedAttempts: number; acknowledged: number } }).webhooks;
        return w.failedAttempts >= 2 && w.acknowledged === 0;
      },
      { description: 'simulator deliveries refused', timeoutMs: 15_000 },
    );
    const refusals = await down.registry.getSingleMetric('wa_webhook_requests_total')?.get();
    expect(refusals?.values.find((v) => v.labels.code === '503')?.value ?? 0).toBeGreaterThanOrEqual(2);

    up = createWebhookService(h.config());
    await up.start();
    const upUrl = await listenLocal(up.app);
    await up.whenReady();
    sim.setWebhookUrl(`${upUrl}/webhook`);
    await waitFor(() => (sim.stats() as { webhooks: { acknowledged: number } }).webhooks.acknowledged >= 1, {
      description: 'simulator delivery acknowledged',
      timeoutMs: 15_000,
    });

    const keys = createRedisKeys(h.redisPrefix);
    await waitFor(() => h.redis.get(keys.optOut(DEFAULT_WABA_ID, person)), { description: 'opt-out from the retried STOP', timeoutMs: 15_000 });
    const mine = () => inbound.json<InboundEventV1>().filter((e) => e.from === person);
    await waitFor(() => mine().length === 1, { description: 'one inbound event' });

    // Meta may deliver the acknowledged payload again: replay the exact bytes B stored.
    const stored = raw.deliveries().find((r) => r.body.toString().includes(person));
    expect(stored).toBeDefined();
    const body = stored!.body;
    expect((await post(upUrl, { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': stored!.signature! } })).status).toBe(200);
    const marker = f.wamid('marker');
    expect(
      (await post(upUrl, f.signed(f.inboundText({ wamid: marker, from: person, text: 'hi', timestamp: Math.floor(Date.now() / 1000) }), SECRET))).status,
    ).toBe(200);
    await waitFor(() => inbound.json<InboundEventV1>().some((e) => e.wamid === marker), { description: 'marker forwarded' });
    expect(mine().filter((e) => e.text === 'STOP')).toHaveLength(1);
    expect(raw.deliveries().filter((r) => r.deliveryId === stored!.deliveryId)).toHaveLength(2);
  });

  it('the same bytes refused by the Kafka-less instance are accepted once by the healthy one', async () => {
    expect(up).toBeDefined();
    const upUrl = (await up!.app.server.address()) as { port: number };
    const w = f.wamid('retry');
    const req = f.signed(f.statusPayload([f.status({ wamid: w, status: 'delivered', timestamp: Math.floor(Date.now() / 1000), pricing: 'PMP' })]), SECRET);
    const refused = await post(downUrl, req);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toEqual({ error: { code: 'kafka_unavailable' } });
    const base = `http://127.0.0.1:${upUrl.port}`;
    expect((await post(base, req)).status).toBe(200);
    expect((await post(base, req)).status).toBe(200);
    await waitFor(() => status.json<StatusEventV1>().filter((e) => e.wamid === w).length === 1, { description: 'status event' });
    const marker = f.wamid('marker2');
    expect((await post(base, f.signed(f.statusPayload([f.status({ wamid: marker, status: 'sent', timestamp: 1 })]), SECRET))).status).toBe(200);
    await waitFor(() => status.json<StatusEventV1>().some((e) => e.wamid === marker), { description: 'marker forwarded' });
    expect(status.json<StatusEventV1>().filter((e) => e.wamid === w)).toHaveLength(1);
  });
});
