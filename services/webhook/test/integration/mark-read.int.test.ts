import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import { systemClock } from '@wa/shared/clock';
import { createLogger } from '@wa/shared/logger';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { listenLocal, waitFor } from '@wa/shared/testing';
import { createSimulator, DEFAULT_ACCESS_TOKEN, DEFAULT_PHONE_NUMBER_IDS, DEFAULT_WABA_ID, type Simulator } from '@wa/cloud-api-sim';
import { ReadMarker } from '../../src/adapters/graph-read-marker';
import { createWebhookService, type WebhookService } from '../../src/service';
import { createHarness, SECRET, type Collector, type Harness } from './harness';

/**
 * MARK_INBOUND_READ end to end: the simulator (Meta) delivers inbound messages to the webhook
 * service; its normaliser forwards them and, in the background, marks each one read with
 * POST /{phone-number-id}/messages {"status":"read"}
 * (developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read).
 */
describe('mark inbound messages as read (real Kafka, Redis, simulator)', () => {
  let h: Harness;
  let sim: Simulator;
  let service: WebhookService;
  let inbound: Collector;
  const marked = (phone: string) => (sim.stats() as { phoneNumbers: Record<string, { markRead: number }> }).phoneNumbers[phone]!.markRead;

  beforeAll(async () => {
    h = await createHarness();
    sim = createSimulator({ scenario: { appSecret: SECRET, webhooks: { duplicateFraction: 0 } } });
    const simUrl = await sim.start();
    service = createWebhookService(
      h.config({
        MARK_INBOUND_READ: 'true',
        WA_ACCESS_TOKENS: `${DEFAULT_WABA_ID}=${DEFAULT_ACCESS_TOKEN}`,
        GRAPH_API_BASE_URL: simUrl,
        MARK_READ_MPS: '50',
      }),
    );
    await service.start();
    sim.setWebhookUrl(`${await listenLocal(service.app)}/webhook`);
    await service.whenReady();
    inbound = await h.collect(h.names.inbound);
  });

  afterAll(async () => {
    await service?.close();
    await sim?.close();
    await h?.cleanup();
  });

  it('marks every new inbound message read once, per number, without holding the normaliser', async () => {
    const people = Array.from({ length: 12 }, (_, i) => `4477009${String(i).padStart(5, '0')}`);
    people.forEach((from, i) => sim.inbound({ phoneNumberId: DEFAULT_PHONE_NUMBER_IDS[i % 2]!, from, text: `hello ${i}` }));
    await sim.flush();
    await waitFor(() => inbound.values.length >= people.length, { description: 'inbound events forwarded', timeoutMs: 20_000 });
    await waitFor(() => marked(DEFAULT_PHONE_NUMBER_IDS[0]) + marked(DEFAULT_PHONE_NUMBER_IDS[1]) === people.length, {
      description: 'every inbound message marked read at the simulator',
      timeoutMs: 20_000,
    });
    expect([marked(DEFAULT_PHONE_NUMBER_IDS[0]), marked(DEFAULT_PHONE_NUMBER_IDS[1])]).toEqual([6, 6]);
    const markedMetric = async () =>
      (await service.registry.getSingleMetric('wa_webhook_mark_read_total')?.get())?.values.find((v) => v.labels.result === 'marked')?.value;
    // The simulator counts a call before its answer reaches the marker.
    await waitFor(async () => (await markedMetric()) === people.length, { description: 'marked metric', timeoutMs: 5_000 });
  });

  it('does not mark a message twice (a replayed batch), and counts what Meta refuses', async () => {
    const events = inbound.json<InboundEventV1>();
    const before = marked(DEFAULT_PHONE_NUMBER_IDS[0]) + marked(DEFAULT_PHONE_NUMBER_IDS[1]);
    const registry = new Registry();
    const counter = new Counter({ name: 'replay_mark_read_total', help: 'test', labelNames: ['result'], registers: [registry] });
    const replay = new ReadMarker({
      baseUrl: sim.url()!,
      version: 'v24.0',
      accessTokens: new Map([[DEFAULT_WABA_ID, DEFAULT_ACCESS_TOKEN]]),
      perNumberMps: 100,
      maxQueued: 100,
      timeoutMs: 5_000,
      redis: h.redis,
      keys: createRedisKeys(h.redisPrefix),
      counter,
      logger: createLogger({ service: 'mark-read-test', level: 'silent' }),
      clock: systemClock,
    });
    const stranger = { ...events[0]!, wamid: 'wamid.NOT-RECEIVED', eventId: 'wamid.NOT-RECEIVED' };
    const old = { ...events[0]!, wamid: 'wamid.OLD', sentAt: new Date(Date.now() - 31 * 86_400_000).toISOString() };
    replay.offer([...events, stranger, old]);
    const results = async () => Object.fromEntries((await counter.get()).values.map((v) => [v.labels.result, v.value]));
    await waitFor(async () => (await results()).refused === 1 && (await results()).duplicate === events.length, {
      description: 'replay settled',
      timeoutMs: 10_000,
    });
    expect(await results()).toEqual({ duplicate: events.length, refused: 1, too_old: 1 });
    expect(marked(DEFAULT_PHONE_NUMBER_IDS[0]) + marked(DEFAULT_PHONE_NUMBER_IDS[1])).toBe(before);
    await replay.close();
  });
});
