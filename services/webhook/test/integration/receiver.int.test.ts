import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { listenLocal, waitFor } from '@wa/shared/testing';
import { createWebhookService, type WebhookService } from '../../src/service';
import * as f from '../fixtures';
import { createHarness, OLD_SECRET, post, SECRET, VERIFY_TOKEN, type Collector, type Harness } from './harness';

const T = Math.floor(Date.now() / 1000);

describe('webhook receiver against the real broker', () => {
  let h: Harness;
  let service: WebhookService;
  let url: string;
  let raw: Collector;
  let dlq: Collector;

  beforeAll(async () => {
    h = await createHarness();
    service = createWebhookService(h.config({ WEBHOOK_APP_SECRETS: `previous=${OLD_SECRET},current=${SECRET}`, WEBHOOK_MAX_BODY_BYTES: '4096' }));
    await service.start();
    url = await listenLocal(service.app);
    await service.whenReady();
    raw = await h.collect(h.names.raw);
    dlq = await h.collect(h.names.dlq);
  });

  afterAll(async () => {
    await service?.close();
    await h?.cleanup();
  });

  const rawRecords = () => raw.deliveries();

  it('answers the verification handshake only with the right token', async () => {
    const ok = await fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrongToken = await fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrongToken.status).toBe(403);
    const wrongMode = await fetch(`${url}/webhook?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`);
    expect(wrongMode.status).toBe(403);
    const noChallenge = await fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`);
    expect(noChallenge.status).toBe(403);
  });

  it('stores a signed POST once on wa.webhooks.raw, byte for byte, before answering 200', async () => {
    const req = f.signed(f.statusPayload([f.status({ wamid: f.wamid('rcv'), status: 'sent', timestamp: T })]), SECRET);
    const res = await post(url, req);
    expect(res.status).toBe(200);
    const id = createHash('sha256').update(req.body).digest('hex');
    // acks=-1 happened before the 200, so the record is readable now (the wait covers consumer start only).
    const record = await waitFor(() => rawRecords().find((r) => r.deliveryId === id), { description: 'raw record' });
    expect(record.body.equals(req.body)).toBe(true);
    expect(record).toMatchObject({ secretId: 'current', isJson: true, signature: req.headers['x-hub-signature-256'], contentType: 'application/json' });
    expect(rawRecords().filter((r) => r.deliveryId === id)).toHaveLength(1);
  });

  it('accepts the previous secret during a rotation and records which one matched', async () => {
    const req = f.signed(f.statusPayload([f.status({ wamid: f.wamid('rot'), status: 'sent', timestamp: T })]), OLD_SECRET);
    expect((await post(url, req)).status).toBe(200);
    const id = createHash('sha256').update(req.body).digest('hex');
    const record = await waitFor(() => rawRecords().find((r) => r.deliveryId === id), { description: 'raw record' });
    expect(record.secretId).toBe('previous');
  });

  it('refuses missing, tampered and wrong-secret signatures with 401 and forwards nothing', async () => {
    const payload = f.statusPayload([f.status({ wamid: f.wamid('bad'), status: 'sent', timestamp: T })]);
    const good = f.signed(payload, SECRET);
    const tampered = { body: Buffer.from(good.body.toString().replace('"sent"', '"read"')), headers: good.headers };
    const wrongSecret = f.signed(payload, 'not-our-secret');
    const missing = { body: good.body, headers: { 'content-type': 'application/json' } };
    const before = await service.registry.getSingleMetricAsString('wa_webhook_signature_failures_total');
    for (const req of [tampered, wrongSecret, missing]) expect((await post(url, req)).status).toBe(401);
    const after = await service.registry.getSingleMetric('wa_webhook_signature_failures_total')?.get();
    const total = (after?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    expect(total).toBeGreaterThanOrEqual(3);
    expect(before).not.toEqual(await service.registry.getSingleMetricAsString('wa_webhook_signature_failures_total'));
    // A valid sentinel sent afterwards lands; none of the refused bodies did.
    const sentinel = f.signed(f.statusPayload([f.status({ wamid: f.wamid('sentinel'), status: 'sent', timestamp: T })]), SECRET);
    expect((await post(url, sentinel)).status).toBe(200);
    const sentinelId = createHash('sha256').update(sentinel.body).digest('hex');
    await waitFor(() => rawRecords().some((r) => r.deliveryId === sentinelId), { description: 'sentinel' });
    const refusedIds = [tampered.body, good.body].map((b) => createHash('sha256').update(b).digest('hex'));
    expect(rawRecords().filter((r) => refusedIds.includes(r.deliveryId))).toEqual([]);
  });

  it('answers 413 above the size limit and 415 for a wrong content type', async () => {
    const big = f.signed(f.statusPayload(Array.from({ length: 40 }, () => f.status({ wamid: f.wamid('big'), status: 'sent', timestamp: T }))), SECRET);
    expect(big.body.length).toBeGreaterThan(4096);
    expect((await post(url, big)).status).toBe(413);
    const form = f.signed('object=whatsapp_business_account', SECRET);
    expect((await post(url, { body: form.body, headers: { ...form.headers, 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
    expect((await post(url, { body: form.body, headers: { ...form.headers, 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('stores a validly signed non-JSON body raw (isJson=false), counts it, and the normaliser dead-letters it', async () => {
    const req = f.signed('this is {not json', SECRET);
    expect((await post(url, req)).status).toBe(200);
    const id = createHash('sha256').update(req.body).digest('hex');
    const record = await waitFor(() => rawRecords().find((r) => r.deliveryId === id), { description: 'raw non-JSON record' });
    expect(record.isJson).toBe(false);
    expect(record.body.toString()).toBe('this is {not json');
    const letter = await waitFor(() => dlq.json<DeadLetterV1>().find((d) => d.reason === 'invalid_json' && d.detail.includes(id)), {
      description: 'DLQ record for the non-JSON body',
    });
    expect(letter).toMatchObject({ service: 'webhook-normaliser', source: { kind: 'kafka', topic: h.names.raw } });
    const nonJson = await service.registry.getSingleMetric('wa_webhook_non_json_total')?.get();
    expect(nonJson?.values[0]?.value).toBe(1);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'wa_webhook_ack_duration_seconds',
      'wa_webhook_signature_failures_total',
      'wa_webhook_payload_bytes',
      'wa_webhook_produce_duration_seconds',
      'wa_webhook_events_total',
      'wa_webhook_dedupe_hits_total',
    ]) {
      expect(metrics).toContain(name);
    }
  });
});
