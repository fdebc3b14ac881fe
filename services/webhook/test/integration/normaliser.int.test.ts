import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRawRecord, encodeRawRecord } from '@wa/shared/contracts/webhook-raw';
import type { AccountEventV1, InboundEventV1, StatusEventV1 } from '@wa/shared/contracts/events';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { createRedis, type Redis } from '@wa/shared/redis';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { inboundRateBucket } from '@wa/shared/inbound-rate';
import { listenLocal, testInfra, waitFor } from '@wa/shared/testing';
import { createWebhookService, type WebhookService } from '../../src/service';
import * as f from '../fixtures';
import { createHarness, post, SECRET, type Collector, type Harness } from './harness';

const NOW_S = Math.floor(Date.now() / 1000);

describe('normaliser: wa.webhooks.raw → wa.events.* and Redis state', () => {
  let h: Harness;
  let service: WebhookService;
  let url: string;
  let statusEvents: Collector;
  let inboundEvents: Collector;
  let accountEvents: Collector;
  let dlq: Collector;
  let subscriber: Redis;
  const announcements: Record<string, unknown>[] = [];
  let keys: ReturnType<typeof createRedisKeys>;

  beforeAll(async () => {
    h = await createHarness();
    keys = createRedisKeys(h.redisPrefix);
    subscriber = createRedis(testInfra().redisUrl);
    await subscriber.connect();
    await subscriber.subscribe(keys.accountChangesChannel());
    subscriber.on('message', (_channel, message) => announcements.push(JSON.parse(message) as Record<string, unknown>));
    service = createWebhookService(h.config());
    await service.start();
    url = await listenLocal(service.app);
    await service.whenReady();
    [statusEvents, inboundEvents, accountEvents, dlq] = await Promise.all([
      h.collect(h.names.status),
      h.collect(h.names.inbound),
      h.collect(h.names.account),
      h.collect(h.names.dlq),
    ]);
  });

  afterAll(async () => {
    await subscriber?.quit();
    await service?.close();
    await h?.cleanup();
  });

  const send = async (payload: Record<string, unknown>) => {
    const res = await post(url, f.signed(payload, SECRET));
    expect(res.status).toBe(200);
  };
  const statusesOf = (wamid: string) => statusEvents.json<StatusEventV1>().filter((e) => e.wamid === wamid);

  it('forwards a duplicate delivery once (same bytes twice, and the same status inside another batch)', async () => {
    const w = f.wamid('dup');
    const delivered = f.status({ wamid: w, status: 'delivered', timestamp: NOW_S, pricing: 'PMP' });
    const payload = f.statusPayload([delivered]);
    await send(payload);
    await send(payload);
    await send(f.statusPayload([delivered, f.status({ wamid: w, status: 'read', timestamp: NOW_S + 3, pricing: 'PMP' })]));
    await waitFor(() => statusesOf(w).length >= 2, { description: 'delivered and read events' });
    // A later marker proves the normaliser moved past the duplicates before we count.
    const marker = f.wamid('marker');
    await send(f.statusPayload([f.status({ wamid: marker, status: 'sent', timestamp: NOW_S })]));
    await waitFor(() => statusesOf(marker).length === 1, { description: 'marker event' });
    expect(
      statusesOf(w)
        .map((e) => e.status)
        .sort(),
    ).toEqual(['delivered', 'read']);
    const hits = await service.registry.getSingleMetric('wa_webhook_dedupe_hits_total')?.get();
    expect((hits?.values ?? []).reduce((s, v) => s + v.value, 0)).toBeGreaterThanOrEqual(2);
    // The lag gauge (picked up by the consumer-lag alert) reports the partitions it consumed.
    const lag = await service.registry.getSingleMetric('wa_webhook_consumer_lag')?.get();
    expect(lag?.values.length ?? 0).toBeGreaterThan(0);
    expect(lag?.values.every((v) => Number.isInteger(v.value) && v.value >= 0)).toBe(true);
    // Every dedupe bucket written carries a TTL of at least the dedupe horizon (8 days by default).
    const buckets = await h.redis.keys(`${keys.webhookSeenBuckets()}*`);
    expect(buckets.length).toBeGreaterThan(0);
    for (const bucket of buckets) expect(await h.redis.pttl(bucket)).toBeGreaterThanOrEqual(8 * 24 * 3_600_000);
  });

  it('records out-of-order statuses of one message, each once', async () => {
    const w = f.wamid('ooo');
    await send(f.statusPayload([f.status({ wamid: w, status: 'read', timestamp: NOW_S + 10, pricing: 'CBP', category: 'marketing' })]));
    await send(f.statusPayload([f.status({ wamid: w, status: 'delivered', timestamp: NOW_S + 5, pricing: 'CBP', category: 'marketing' })]));
    await send(f.statusPayload([f.status({ wamid: w, status: 'sent', timestamp: NOW_S })]));
    await send(f.statusPayload([f.status({ wamid: w, status: 'failed', timestamp: NOW_S + 11, errorCode: 131026 })]));
    const events = await waitFor(() => (statusesOf(w).length === 4 ? statusesOf(w) : undefined), { description: 'four statuses' });
    expect(new Set(events.map((e) => e.status))).toEqual(new Set(['read', 'delivered', 'sent', 'failed']));
    expect(events.find((e) => e.status === 'failed')?.errors?.[0]?.code).toBe(131026);
    expect(events.find((e) => e.status === 'read')?.pricing).toEqual({ billable: true, pricingModel: 'CBP', category: 'marketing' });
  });

  it('an inbound message opens the service window; STOP opts out and START opts back in', async () => {
    const person = `1650555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const sentAtS = NOW_S - 60;
    await send(f.inboundText({ wamid: f.wamid('in'), from: person, text: 'Hello, where is my order?', timestamp: sentAtS }));
    const window = await waitFor(() => h.redis.get(keys.serviceWindow(f.PHONE_NUMBER_ID, person)), { description: 'service window key' });
    expect(Number(window)).toBe(sentAtS * 1000);
    const ttl = await h.redis.pttl(keys.serviceWindow(f.PHONE_NUMBER_ID, person));
    expect(ttl).toBeGreaterThan(24 * 3_600_000 - 120_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000 - 55_000);
    expect(await h.redis.exists(keys.optOut(f.WABA_ID, person))).toBe(0);

    await send(f.inboundText({ wamid: f.wamid('stop'), from: person, text: 'STOP', timestamp: NOW_S }));
    await waitFor(() => h.redis.get(keys.optOut(f.WABA_ID, person)), { description: 'opt-out key' });
    expect(Number(await h.redis.get(keys.serviceWindow(f.PHONE_NUMBER_ID, person)))).toBe(NOW_S * 1000);
    expect(
      inboundEvents
        .json<InboundEventV1>()
        .filter((e) => e.from === person)
        .map((e) => e.text),
    ).toContain('STOP');

    await send(f.inboundText({ wamid: f.wamid('start'), from: person, text: 'Start', timestamp: NOW_S + 1 }));
    // An opt-in is remembered ("0:<event ms>") so that an older STOP redelivered later cannot undo it.
    await waitFor(async () => (await h.redis.get(keys.optOut(f.WABA_ID, person))) === `0:${(NOW_S + 1) * 1000}`, { description: 'opt-out lifted' });
  });

  // Meta counts inbound messages in a number's throughput (developers.facebook.com/documentation/business-messaging/
  // whatsapp/throughput): the normaliser puts each one in the window the dispatchers' send guard counts.
  it("counts inbound messages in their number's inbound rate, and a fresh one in its throughput window", async () => {
    const number = `1065403${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const window = keys.throughputWindow(number);
    const old = f.wamid('old-in');
    const fresh = f.wamid('fresh-in');
    const nowS = Math.floor(Date.now() / 1000);
    const text = (wamid: string, from: string, timestamp: number) => ({ from, id: wamid, timestamp: String(timestamp), type: 'text', text: { body: 'hi' } });
    // One delivery with both, so the old one was certainly processed when the fresh one shows.
    const messages = [text(old, '16505550100', nowS - 20), text(fresh, '16505550101', nowS), text(f.wamid('older'), '16505550102', nowS - 150)];
    await send(
      f.envelope([{ field: 'messages', value: f.messagesValue({ contacts: [{ profile: { name: 'Ana' }, wa_id: '16505550100' }], messages }, number) }]),
    );
    const members = await waitFor(async () => ((await h.redis.zcard(window)) > 0 ? h.redis.zrange(window, 0, -1, 'WITHSCORES') : undefined), {
      description: 'throughput window entries',
    });
    expect(members.filter((_, i) => i % 2 === 0)).toEqual([`in:${fresh}`]);
    // Stamped on Redis' clock when the normaliser learned of it; gone two windows later.
    expect(Math.abs(Number(members[1]) - Date.now())).toBeLessThan(2_000);
    const ttl = await h.redis.pttl(window);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
    // The rate counts by Meta's timestamp, 5 s buckets: the message of 20 s ago too, not the one of 150 s ago (older than the hold).
    const buckets = await h.redis.hgetall(keys.inboundRate(number));
    expect(Object.values(buckets).reduce((n, v) => n + Number(v), 0)).toBe(2);
    expect(Object.keys(buckets).sort()).toEqual([...new Set([inboundRateBucket((nowS - 20) * 1000), inboundRateBucket(nowS * 1000)])].map(String).sort());
    expect(await h.redis.pttl(keys.inboundRate(number))).toBeGreaterThan(50_000);
  });

  it('quality and capability updates change the tier keys and are announced to dispatchers', async () => {
    const wabaId = `9${Date.now()}`;
    const phoneNumberId = `7${Date.now()}`;
    const display = '15550009999';
    // A message webhook teaches the display number → phone number id pairing that quality updates lack.
    await send(
      f.envelope(
        [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: display, phone_number_id: phoneNumberId },
              statuses: [f.status({ wamid: f.wamid('q'), status: 'sent', timestamp: NOW_S })],
            },
          },
        ],
        { wabaId },
      ),
    );
    await waitFor(() => h.redis.get(keys.phoneNumberIdByDisplay(display)), { description: 'display mapping' });

    await send(f.qualityUpdate({ event: 'FLAGGED', currentLimit: 'TIER_2K', time: NOW_S, wabaId, display }));
    const limit = await waitFor(() => h.redis.get(keys.messagingLimit(wabaId)), { description: 'messaging limit key' });
    expect(JSON.parse(limit)).toEqual({ limit: 2_000, event: 'FLAGGED', updatedAt: new Date(NOW_S * 1000).toISOString(), source: 'webhook' });
    const quality = await waitFor(() => h.redis.get(keys.phoneQuality(phoneNumberId)), { description: 'quality key' });
    expect(JSON.parse(quality)).toMatchObject({ quality: 'RED', event: 'FLAGGED' });
    await waitFor(() => announcements.some((a) => a.kind === 'messaging_limit' && a.wabaId === wabaId && a.limit === 2_000), {
      description: 'limit announcement',
    });
    await waitFor(() => announcements.some((a) => a.kind === 'phone_quality' && a.phoneNumberId === phoneNumberId), { description: 'quality announcement' });
    // The forwarded event names the number by id too (Meta sent only the display number), so the
    // dashboard's sender panel shows the rating on the right number.
    const flagged = await waitFor(() => accountEvents.json<AccountEventV1>().find((e) => e.wabaId === wabaId && e.event === 'FLAGGED'), {
      description: 'FLAGGED account event',
    });
    expect(flagged).toMatchObject({ kind: 'phone_quality', displayPhoneNumber: display, phoneNumberId });
    // Also kept by display number, which the dispatcher maps through its catalogue; a later throughput
    // upgrade (no rating) keeps the rating, and a later FLAGGED (no throughput) keeps the upgrade.
    await send(f.qualityUpdate({ event: 'THROUGHPUT_UPGRADE', currentLimit: 'TIER_UNLIMITED', time: NOW_S + 1, wabaId, display }));
    await waitFor(async () => JSON.parse((await h.redis.get(keys.phoneStateByDisplay(display))) ?? '{}').throughputMps === 1_000, {
      description: 'upgrade by display number',
    });
    expect(JSON.parse((await h.redis.get(keys.phoneStateByDisplay(display)))!)).toMatchObject({
      quality: 'RED',
      throughputMps: 1_000,
      event: 'THROUGHPUT_UPGRADE',
    });
    expect(await h.redis.pttl(keys.phoneStateByDisplay(display))).toBeGreaterThan(0);
    expect(JSON.parse((await h.redis.get(keys.messagingLimit(wabaId)))!).limit).toBe(2_000); // TIER_UNLIMITED was the throughput level
    await send(f.qualityUpdate({ event: 'UNFLAGGED', currentLimit: 'TIER_2K', time: NOW_S + 2, wabaId, display }));
    await waitFor(async () => JSON.parse((await h.redis.get(keys.phoneStateByDisplay(display))) ?? '{}').quality === 'GREEN', { description: 'unflagged' });
    expect(JSON.parse((await h.redis.get(keys.phoneStateByDisplay(display)))!)).toMatchObject({ throughputMps: 1_000, throughputSource: 'webhook' });

    await send(f.capabilityUpdate({ limit: 100_000, time: NOW_S + 60, wabaId }));
    await waitFor(async () => JSON.parse((await h.redis.get(keys.messagingLimit(wabaId))) ?? '{}').limit === 100_000, { description: 'upgraded limit' });
    // An older event arriving late does not roll the tier back.
    await send(f.capabilityUpdate({ limit: 250, time: NOW_S - 600, wabaId }));
    await waitFor(() => accountEvents.json<AccountEventV1>().some((e) => e.wabaId === wabaId && e.messagingLimit === 250), {
      description: 'late event forwarded',
    });
    expect(JSON.parse((await h.redis.get(keys.messagingLimit(wabaId))) ?? '{}').limit).toBe(100_000);

    await send(f.templateStatusUpdate({ name: 'order_update', language: 'en_US', event: 'PAUSED', time: NOW_S, wabaId }));
    await waitFor(async () => (await h.redis.get(keys.templateStatus(wabaId, 'order_update', 'en_US'))) === 'PAUSED', { description: 'template status key' });
    await send(f.pricingTierUpdate({ time: NOW_S, tier: '25001:100000', wabaId }));
    const tier = await waitFor(() => h.redis.get(keys.pricingTier(wabaId)), { description: 'pricing tier key' });
    expect(JSON.parse(tier)).toMatchObject({ event: 'VOLUME_BASED_PRICING_TIER_UPDATE', volume_tier_info: { tier: '25001:100000' } });

    // account_update bans and restrictions: one facet each in the account's standing, with a TTL.
    // https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
    const accountUpdate = (value: Record<string, unknown>, time: number) => f.envelope([{ field: 'account_update', value }], { wabaId, time });
    await send(accountUpdate({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: '2026-12-06' } }, NOW_S));
    await send(
      accountUpdate(
        { event: 'ACCOUNT_RESTRICTION', restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: NOW_S + 3600 }] },
        NOW_S,
      ),
    );
    await waitFor(async () => JSON.parse((await h.redis.get(keys.accountStanding(wabaId))) ?? '{}').restriction !== undefined, { description: 'standing key' });
    await waitFor(async () => JSON.parse((await h.redis.get(keys.accountStanding(wabaId))) ?? '{}').ban !== undefined, { description: 'ban facet' });
    expect(JSON.parse((await h.redis.get(keys.accountStanding(wabaId)))!)).toMatchObject({
      ban: { state: 'DISABLE', event: 'DISABLED_UPDATE' },
      restriction: { items: [{ type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiresAtMs: (NOW_S + 3600) * 1000 }] },
    });
    expect(await h.redis.pttl(keys.accountStanding(wabaId))).toBeGreaterThan(0);
    // An older ban report arriving late does not undo a newer reinstatement.
    await send(accountUpdate({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'REINSTATE' } }, NOW_S + 10));
    await waitFor(async () => JSON.parse((await h.redis.get(keys.accountStanding(wabaId))) ?? '{}').ban?.state === 'REINSTATE', { description: 'reinstated' });
    await send(accountUpdate({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: '2026-12-01' } }, NOW_S - 100));
    await waitFor(() => accountEvents.json<AccountEventV1>().some((e) => e.wabaId === wabaId && JSON.stringify(e.value).includes('2026-12-01')), {
      description: 'late ban forwarded',
    });
    expect(JSON.parse((await h.redis.get(keys.accountStanding(wabaId)))!).ban.state).toBe('REINSTATE');
  });

  it('dead-letters an event that fails its schema with the reason, and forwards the rest of the payload', async () => {
    const good = f.wamid('good');
    await send(
      f.statusPayload([
        f.status({ wamid: good, status: 'sent', timestamp: NOW_S }),
        { id: f.wamid('bad'), status: 'teleported', timestamp: String(NOW_S), recipient_id: '1' },
      ]),
    );
    await waitFor(() => statusesOf(good).length === 1, { description: 'valid status forwarded' });
    const letter = await waitFor(() => dlq.json<DeadLetterV1>().find((d) => d.reason === 'schema_violation' && d.detail.includes('status')), {
      description: 'DLQ record',
    });
    expect(letter.service).toBe('webhook-normaliser');
    expect(letter.source).toMatchObject({ kind: 'kafka', topic: h.names.raw });
  });

  it('reads records of both formats: format 1 (JSON, base64 body) written before format 2, and format 2 with several deliveries', async () => {
    const legacy = f.wamid('v1');
    const body = Buffer.from(JSON.stringify(f.statusPayload([f.status({ wamid: legacy, status: 'sent', timestamp: NOW_S })])));
    const deliveryId = createHash('sha256').update(body).digest('hex');
    const v1 = {
      v: 1,
      deliveryId,
      receivedAt: new Date().toISOString(),
      bodyBase64: body.toString('base64'),
      contentType: 'application/json',
      signature: null,
      secretId: 'current',
      isJson: true,
      userAgent: null,
    };
    const [first, second] = [f.wamid('v2a'), f.wamid('v2b')];
    const v2 = encodeRawRecord(
      [first, second, null].map((wamid) => {
        const b = Buffer.from(wamid === null ? 'not json' : JSON.stringify(f.statusPayload([f.status({ wamid, status: 'delivered', timestamp: NOW_S })])));
        const id = createHash('sha256').update(b).digest('hex');
        return {
          deliveryId: id,
          receivedAtMs: Date.now(),
          body: b,
          contentType: 'application/json',
          signature: null,
          secretId: 'current',
          isJson: wamid !== null,
          userAgent: null,
        };
      }),
    );
    const producer = h.kafka.producer();
    await producer.connect();
    await producer.send({ topic: h.names.raw, acks: -1, messages: [{ key: deliveryId, value: JSON.stringify(v1) }, { value: v2 }] });
    await producer.disconnect();
    await waitFor(() => statusesOf(legacy).length === 1 && statusesOf(first).length === 1 && statusesOf(second).length === 1, {
      description: 'events of both formats',
    });
    expect(statusesOf(legacy)[0]).toMatchObject({ status: 'sent' });
    // The dead letter of one delivery of a shared record carries that delivery alone.
    const letter = await waitFor(
      () => dlq.json<DeadLetterV1>().find((d) => d.reason === 'invalid_json' && d.detail.includes(createHash('sha256').update('not json').digest('hex'))),
      {
        description: 'DLQ record of the non-JSON delivery',
      },
    );
    const own = decodeRawRecord(Buffer.from(letter.originalValueBase64, 'base64'));
    expect(own.ok && own.deliveries.map((d) => d.body.toString())).toEqual(['not json']);
  });
});
