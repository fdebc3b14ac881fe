import type { Message } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { decodeRawRecord } from '@wa/shared/contracts/webhook-raw';
import { AppError } from '@wa/shared/errors';
import { createLogger } from '@wa/shared/logger';
import { createReadiness } from '@wa/shared/readiness';
import { buildApp, type RawSink } from '../../src/http/app';
import { createWebhookMetrics } from '../../src/metrics';
import * as f from '../fixtures';

const SECRET = 'unit-secret';

function setup(sink: RawSink, options: { receiver?: boolean } = {}) {
  const registry = new Registry();
  const app = buildApp({
    ...options,
    secrets: [{ id: 'k1', secret: SECRET }],
    verifyToken: 'tok',
    maxBodyBytes: 2_048,
    sink,
    metrics: createWebhookMetrics(registry),
    registry,
    readiness: createReadiness(),
    logger: createLogger({ service: 'webhook-unit', level: 'silent' }),
    clock: { now: () => Date.parse('2025-07-01T10:00:00.000Z') },
  });
  return { app, registry };
}

function recordingSink(): RawSink & { records: Message[] } {
  const records: Message[] = [];
  return { records, send: async (m) => void records.push(m) };
}

describe('buildApp (HTTP layer, no socket)', () => {
  it('on a normaliser-only replica serves the ops routes but not /webhook, and hands the sink nothing', async () => {
    const sink = recordingSink();
    const { app } = setup(sink, { receiver: false });
    const req = f.signed(f.inboundText({ wamid: 'wamid.n', from: '16505551234', text: 'hi', timestamp: 1 }), SECRET);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: req.headers })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect(sink.records).toHaveLength(0);
  });

  it('hands the sink a raw record of the exact bytes, keyed by delivery id, and answers 200 only after it resolved', async () => {
    let release: (() => void) | undefined;
    const sink: RawSink = { send: () => new Promise<void>((resolve) => (release = resolve)) };
    const { app } = setup(sink);
    const req = f.signed(f.inboundText({ wamid: 'wamid.1', from: '16505551234', text: 'Olá, ça va?', timestamp: 1 }), SECRET);
    let answered = false;
    const pending = app
      .inject({ method: 'POST', url: '/webhook', payload: req.body, headers: { ...req.headers, 'content-type': 'application/json; charset=utf-8' } })
      .then((r) => {
        answered = true;
        return r;
      });
    // Wait until the handler reached the sink (a fixed 20 ms raced the first request's warm-up),
    // then give it time to answer early if it would.
    for (let i = 0; i < 500 && release === undefined; i += 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    expect(release).toBeDefined();
    release?.();
    expect((await pending).statusCode).toBe(200);
  });

  it('stores what was received byte for byte', async () => {
    const sink = recordingSink();
    const { app } = setup(sink);
    const req = f.signed(f.inboundText({ wamid: 'wamid.2', from: '16505551234', text: 'Olá', timestamp: 1 }), SECRET);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: req.headers })).statusCode).toBe(200);
    const decoded = decodeRawRecord(sink.records[0]?.value as Buffer);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.deliveries).toHaveLength(1);
    const record = decoded.deliveries[0]!;
    expect(record.body.equals(req.body)).toBe(true);
    expect(req.body.toString()).toContain('\\u00e1');
    expect(sink.records[0]?.key).toBe(record.deliveryId);
    expect(record).toMatchObject({ secretId: 'k1', isJson: true, receivedAt: '2025-07-01T10:00:00.000Z', userAgent: 'facebookexternalua' });
  });

  it('counts and times every answer of POST /webhook by status code, refusals included, and nothing of the ops routes', async () => {
    const sink = recordingSink();
    const { app, registry } = setup(sink);
    const req = f.signed(f.statusPayload([f.status({ wamid: 'wamid.m', status: 'sent', timestamp: 1 })]), SECRET);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: req.headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(401);
    const big = f.signed('x'.repeat(3_000), SECRET);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: big.body, headers: big.headers })).statusCode).toBe(413);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const requests = await registry.getSingleMetric('wa_webhook_requests_total')?.get();
    expect(Object.fromEntries((requests?.values ?? []).map((v) => [v.labels.code, v.value]))).toEqual({ '200': 1, '401': 1, '413': 1 });
    const acks = await registry.getSingleMetric('wa_webhook_ack_duration_seconds')?.get();
    const counts = (acks?.values ?? []).filter((v) => (v as { metricName?: string }).metricName === 'wa_webhook_ack_duration_seconds_count');
    expect(counts.map((v) => v.value)).toEqual([1, 1, 1]);
  });

  it('maps Kafka trouble to 503 so Meta retries', async () => {
    for (const code of ['kafka_unavailable', 'kafka_timeout']) {
      const { app } = setup({ send: async () => Promise.reject(new AppError(code, 'down', 'retry', { httpStatus: 503 })) });
      const req = f.signed(f.statusPayload([f.status({ wamid: 'wamid.3', status: 'sent', timestamp: 1 })]), SECRET);
      const res = await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: req.headers });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: { code } });
    }
  });

  it('refuses bad requests before anything reaches the sink', async () => {
    const sink = recordingSink();
    const { app, registry } = setup(sink);
    const req = f.signed(f.statusPayload([f.status({ wamid: 'wamid.4', status: 'sent', timestamp: 1 })]), SECRET);
    const noType = await app.inject({
      method: 'POST',
      url: '/webhook',
      payload: req.body,
      headers: { 'x-hub-signature-256': req.headers['x-hub-signature-256']! },
    });
    expect(noType.statusCode).toBe(415);
    const big = f.signed('x'.repeat(3_000), SECRET);
    expect((await app.inject({ method: 'POST', url: '/webhook', payload: big.body, headers: big.headers })).statusCode).toBe(413);
    const unsigned = await app.inject({ method: 'POST', url: '/webhook', payload: req.body, headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json()).toEqual({ error: { code: 'invalid_signature', reason: 'missing' } });
    expect(sink.records).toEqual([]);
    const failures = await registry.getSingleMetric('wa_webhook_signature_failures_total')?.get();
    expect(failures?.values).toEqual([expect.objectContaining({ labels: { reason: 'missing' }, value: 1 })]);
  });

  it('answers the handshake', async () => {
    const { app } = setup(recordingSink());
    const ok = await app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=abc' });
    expect([ok.statusCode, ok.body, ok.headers['content-type']]).toEqual([200, 'abc', 'text/plain']);
    expect((await app.inject({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=tok2&hub.challenge=abc' })).statusCode).toBe(403);
  });
});
