import { afterEach, describe, expect, it } from 'vitest';
import type { AccountEventV1 } from '@wa/shared/contracts/events';
import { ensureTopics } from '@wa/shared/kafka';
import { waitFor } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import type { WebhookService } from '../../../webhook/src/service';
import { Harness, job, recipient, world } from './harness';
import { startWebhookPath } from './webhook-path';
import { spawnDispatcher, spawnSim, tempDir, type Child } from './procs';

/**
 * Meta's throughput upgrade end to end: the simulator (its own process) raises the number to
 * 1,000 msg/s and sends phone_number_quality_update exactly as Meta's reference shows it — display
 * number, THROUGHPUT_UPGRADE, current_limit TIER_UNLIMITED, no phone-number id, no msg/s figure:
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
 * → webhook receiver (signature, raw record) → normaliser → Redis state by display number →
 * the dispatcher (its own process) maps it through its catalogue → GET /v1/senders and the send rate.
 */
const ADMIN = { authorization: 'Bearer admin-secret-token' };
const START_MPS = 80;

let h: Harness | undefined;
let webhook: WebhookService | undefined;
const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0).reverse()) await c.stop(5_000);
  await webhook?.close();
  webhook = undefined;
  await h?.teardown();
  h = undefined;
});

interface SenderView {
  phoneNumberId: string;
  rateLimitMps: number;
  messagingLimit: number | null;
  sources: { throughput: { value: number; source: string; at?: string; event?: string } };
}

describe('THROUGHPUT_UPGRADE webhook → dispatcher rate', () => {
  it('lifts a number paced at 80 msg/s to 1,000 within seconds, seen in GET /v1/senders and in the send rate', async () => {
    h = new Harness();
    await h.setup(3);
    await ensureTopics(h.admin, [topics.webhooksRaw, topics.eventsStatus, topics.eventsInbound, topics.eventsAccount, topics.notificationsDlq], {
      partitions: 2,
      retentionMs: 3_600_000,
      prefix: h.prefix,
    });
    const w = world([{ id: '1001', mps: START_MPS }]);
    const logDir = tempDir('disp-upgrade');
    const sim = await spawnSim({ ...w.scenario, appSecret: 'sim-app-secret-upgrade' }, logDir);
    children.push(sim);
    h.simUrl = sim.url;

    const path = await startWebhookPath(h, 'sim-app-secret-upgrade');
    webhook = path.service;
    const put = await fetch(`${sim.url}/_sim/webhook`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: path.webhookUrl }),
    });
    expect(put.status).toBe(200);

    // The Graph API read (sender-sync.int.test.ts) is off: this test is about the webhook path alone.
    const dispatcher = await spawnDispatcher('dispatcher', h.env({ SENDER_SYNC_INTERVAL_MS: '0' }), w.catalog, logDir);
    children.push(dispatcher);
    const senders = async (): Promise<SenderView> => {
      const res = await fetch(`${dispatcher.url}/v1/senders`, { headers: ADMIN });
      return ((await res.json()) as { senders: SenderView[] }).senders.find((s) => s.phoneNumberId === '1001')!;
    };
    expect((await senders()).sources.throughput).toEqual({ value: START_MPS, source: 'catalogue' });

    const jobs = Array.from({ length: 4_000 }, (_, i) => job({ to: recipient(i) }));
    await h.produce(jobs);
    await waitFor(() => h!.sent.filter((e) => e.outcome === 'sent').length > START_MPS * 4, { timeoutMs: 30_000, description: '4 s of sends at 80 msg/s' });

    const upgradeAt = Date.now();
    await sim.event({ type: 'phone_number_quality_update', phoneNumberId: '1001', event: 'THROUGHPUT_UPGRADE' });
    await waitFor(async () => (await senders()).rateLimitMps === 1_000, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'GET /v1/senders shows 1,000 msg/s',
    });
    const appliedMs = Date.now() - upgradeAt;
    const view = await senders();
    expect(view.sources.throughput).toMatchObject({ value: 1_000, source: 'webhook', event: 'THROUGHPUT_UPGRADE' });
    expect(view.messagingLimit).toBe(10_000); // TIER_UNLIMITED named the throughput level, not the portfolio's limit

    await waitFor(() => jobs.every((j) => h!.terminal(j.jobId).length > 0), { timeoutMs: 90_000, description: 'a terminal outcome for every job' });
    const times = h.sent
      .filter((e) => e.outcome === 'sent')
      .map((e) => Date.parse(e.occurredAt))
      .sort((a, b) => a - b);
    const rate = (from: number, to: number) => {
      const t = times.filter((x) => x >= from && x < to);
      return t.length < 2 ? 0 : ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!);
    };
    const before = rate(times[0]! + 2_000, upgradeAt);
    const after = rate(upgradeAt + appliedMs + 500, Infinity);
    console.log(
      `throughput upgrade: applied ${appliedMs} ms after the simulator's webhook; before ${before.toFixed(1)} msg/s, after ${after.toFixed(1)} msg/s`,
    );
    expect(before).toBeLessThanOrEqual(START_MPS);
    // 1,000 msg/s is the limit now; this 2-core machine also runs the simulator, Kafka and Redis (and other
    // test runs), so the bar is "above the old limit" rather than the new one (bench:dispatch measures the
    // ceiling). Measured: 38 -> 252 msg/s on a quiet machine, 23 -> 150 on a saturated one; applied in 2.7-4 s.
    expect(after).toBeGreaterThan(START_MPS);
    expect(appliedMs).toBeLessThan(10_000);

    // What the simulator sent is Meta's shape, and that is what the normaliser read.
    const accountTopic = topicName(topics.eventsAccount, h.prefix);
    const collected: AccountEventV1[] = [];
    const consumer = h.kafka.consumer({ groupId: `${h.prefix}collect-account`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: accountTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void collected.push(JSON.parse(message.value!.toString()) as AccountEventV1) });
    await waitFor(() => collected.length > 0, { timeoutMs: 15_000, description: 'the account event' });
    await consumer.disconnect();
    expect(collected[0]).toMatchObject({
      kind: 'phone_quality',
      event: 'THROUGHPUT_UPGRADE',
      displayPhoneNumber: w.catalog.phoneNumbers[0]!.displayNumber,
      throughputMps: 1_000,
    });
    // Meta names the number only by its display number; the normaliser adds the id it paired with that
    // display number from earlier webhooks' metadata (the status webhooks of this run's sends).
    expect(collected[0]!.phoneNumberId).toBe(w.catalog.phoneNumbers[0]!.id);
    expect(collected[0]!.value).toEqual({
      display_phone_number: w.catalog.phoneNumbers[0]!.displayNumber,
      event: 'THROUGHPUT_UPGRADE',
      current_limit: 'TIER_UNLIMITED',
    });
    expect((await sim.stats()).rejectedByCode['130429'] ?? 0).toBe(0);
  });
});
