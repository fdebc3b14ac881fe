import { afterEach, describe, expect, it } from 'vitest';
import type { StatusEventV1 } from '@wa/shared/contracts/events';
import { ensureTopics } from '@wa/shared/kafka';
import { waitFor } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import type { WebhookService } from '../../../webhook/src/service';
import { Harness, job, recipient, world } from './harness';
import { startWebhookPath } from './webhook-path';
import { inProcessDispatchers } from './in-process';

/**
 * Template pacing against the simulator: a new marketing template (quality UNKNOWN) goes out until
 * a threshold, then Meta answers 200 with `message_status: held_for_quality_assessment` and holds the
 * message until its quality assessment ends; the status webhooks come after that.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-pacing
 */
let h: Harness | undefined;
let webhook: WebhookService | undefined;
const dispatchers = inProcessDispatchers(() => h);
afterEach(async () => {
  await webhook?.close();
  webhook = undefined;
});

const promoJob = (i: number) =>
  job({
    to: recipient(100 + i),
    lane: 'marketing',
    category: 'marketing',
    message: { type: 'template', template: { name: 'promo_offer', language: 'en_US', category: 'marketing', bodyParams: ['x'] } },
  });

describe('template pacing of a new marketing template', () => {
  it('held sends are recorded as sent with messageStatus held_for_quality_assessment, not failed or retried; their statuses follow the verdict', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 80 }], { scenario: { templatePacing: { threshold: 2, assessmentMs: 3_000, verdict: 'release' } } });
    const promo = w.scenario.businesses![0]!.wabas[0]!.templates!.find((t) => t.name === 'promo_offer')!;
    (promo as { quality?: string }).quality = 'UNKNOWN'; // new: not rated yet
    const sim = await h.startSim(w.scenario);
    await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });

    const jobs = Array.from({ length: 5 }, (_, i) => promoJob(i));
    // One at a time, so the threshold falls on known jobs.
    for (const j of jobs) {
      await h.produce([j]);
      await waitFor(() => h!.terminal(j.jobId).length > 0, { timeoutMs: 30_000, description: `outcome of ${j.jobId}` });
    }
    const outcomes = jobs.map((j) => h!.terminal(j.jobId)[0]!);
    expect(outcomes.map((e) => e.outcome)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(outcomes.map((e) => e.messageStatus ?? 'accepted')).toEqual([
      'accepted',
      'accepted',
      'held_for_quality_assessment',
      'held_for_quality_assessment',
      'held_for_quality_assessment',
    ]);
    expect(h.sent.filter((e) => e.outcome === 'retry_scheduled' || e.outcome === 'failed')).toEqual([]);
    expect(h.dlq).toEqual([]);

    // The simulator holds them (no status yet), then releases them after the assessment.
    const report = async (wamid: string) =>
      (await sim.app.inject({ url: `/_sim/messages/${encodeURIComponent(wamid)}` })).json() as { statusesEmitted: string[] };
    const held = outcomes[2]!.wamid!;
    expect((await report(held)).statusesEmitted).toEqual([]);
    await waitFor(async () => (await report(held)).statusesEmitted.includes('delivered'), {
      timeoutMs: 15_000,
      description: 'held message delivered after the verdict',
    });
  });

  it('a bad verdict: the held send stays sent (held), and the failed status webhook (132015) decides', async () => {
    h = new Harness();
    await h.setup();
    await ensureTopics(h.admin, [topics.webhooksRaw, topics.eventsStatus, topics.eventsInbound, topics.eventsAccount, topics.notificationsDlq], {
      partitions: 1,
      retentionMs: 3_600_000,
      prefix: h.prefix,
    });
    const w = world([{ id: '1001', mps: 80 }], { scenario: { templatePacing: { threshold: 1, assessmentMs: 3_000, verdict: 'pause' } } });
    const promo = w.scenario.businesses![0]!.wabas[0]!.templates!.find((t) => t.name === 'promo_offer')!;
    (promo as { quality?: string }).quality = 'UNKNOWN';
    const sim = await h.startSim({ ...w.scenario, appSecret: 'sim-app-secret-pacing' });
    // The simulator's webhooks go through the product's receiver and normaliser to wa.events.status.
    const path = await startWebhookPath(h, 'sim-app-secret-pacing');
    webhook = path.service;
    const put = await sim.app.inject({ method: 'PUT', url: '/_sim/webhook', payload: { url: path.webhookUrl } });
    expect(put.statusCode).toBe(200);
    const statuses: StatusEventV1[] = [];
    const consumer = h.kafka.consumer({ groupId: `${h.prefix}collect-status`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(topics.eventsStatus, h.prefix), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void statuses.push(JSON.parse(message.value!.toString()) as StatusEventV1) });
    try {
      await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });
      const jobs = [promoJob(0), promoJob(1)];
      for (const j of jobs) {
        await h.produce([j]);
        await waitFor(() => h!.terminal(j.jobId).length > 0, { timeoutMs: 30_000, description: `outcome of ${j.jobId}` });
      }
      const [first, held] = jobs.map((j) => h!.terminal(j.jobId)[0]!);
      expect([first!.outcome, first!.messageStatus ?? 'accepted']).toEqual(['sent', 'accepted']);
      // Held: recorded on the sent event, not a failure, nothing retried or dead-lettered.
      expect([held!.outcome, held!.messageStatus]).toEqual(['sent', 'held_for_quality_assessment']);
      expect(h.sent.filter((e) => e.outcome !== 'sent')).toEqual([]);
      expect(h.dlq).toEqual([]);

      // Meta drops held messages on a bad signal and pauses the template: the message's final status is
      // a failed webhook with 132015, and that is what the product records for it.
      const ofHeld = () => statuses.filter((s) => s.wamid === held!.wamid);
      await waitFor(() => ofHeld().some((s) => s.status === 'failed'), { timeoutMs: 20_000, description: 'failed status of the held message' });
      expect(ofHeld().map((s) => [s.status, s.errors?.[0]?.code])).toEqual([['failed', 132015]]);
      await waitFor(() => statuses.some((s) => s.wamid === first!.wamid && s.status === 'delivered'), { timeoutMs: 20_000, description: 'first delivered' });
    } finally {
      await consumer.disconnect();
    }
  });
});
