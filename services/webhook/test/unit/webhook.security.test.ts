import type { Message, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@wa/shared/config';
import { createLogger } from '@wa/shared/logger';
import { createReadiness } from '@wa/shared/readiness';
import { BatchingProducer } from '../../src/adapters/kafka-raw-producer';
import { loadWebhookConfig } from '../../src/config';
import { createKeywordMatcher, normaliseKeyword } from '../../src/domain/keywords';
import { normaliseWebhook } from '../../src/domain/normalise';
import { bodyLimitProblem } from '../../src/domain/raw-record';
import { buildApp } from '../../src/http/app';
import { createWebhookMetrics } from '../../src/metrics';
import * as f from '../fixtures';

const SECRET = 'unit-secret-for-security-tests';

function producerOf(send: (messages: Message[]) => Promise<void>): Producer {
  return { send: ({ messages }: { messages: Message[] }) => send(messages) } as unknown as Producer;
}

function batching(producer: Producer, maxBatchBytes = 1 << 30) {
  const p = new BatchingProducer({ producer, topic: 'raw', maxBatch: 100, maxBatchBytes, maxInFlight: 1, lingerMs: 0, timeoutMs: 2_000, maxQueued: 1_000 });
  p.setConnected(true);
  return p;
}

function app(sink: BatchingProducer) {
  const registry = new Registry();
  return buildApp({
    secrets: [{ id: 'k1', secret: SECRET }],
    verifyToken: 'verify-token',
    maxBodyBytes: 64 * 1024,
    sink,
    metrics: createWebhookMetrics(registry),
    registry,
    readiness: createReadiness(),
    logger: createLogger({ service: 'webhook-security', level: 'silent' }),
  });
}

describe('webhook: Kafka refusals, batch sizes and limits', () => {
  it('a record Kafka rejects (MESSAGE_TOO_LARGE) is answered 503 with retry-after, as documented, not 500', async () => {
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
      type: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    const sink = batching(producerOf(async () => Promise.reject(tooLarge)));
    const req = f.signed(f.inboundText({ wamid: f.wamid('big'), from: '16505551234', text: 'hi', timestamp: 1 }), SECRET);
    const res = await app(sink).inject({ method: 'POST', url: '/webhook', payload: req.body, headers: req.headers });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('batches are capped in bytes: one large record never shares (and fails) a batch of others', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    const sink = batching(
      producerOf(async (messages) => {
        batches.push(messages.map((m) => (m.value as string).length));
        if (batches.length === 1) await first;
      }),
      2_000,
    );
    const sends = [sink.send({ value: 'a'.repeat(10) })];
    // While the first send is in flight, these queue: 700 + 700 fit under 2,000 bytes; the 5,000-byte one goes alone.
    for (const size of [700, 700, 5_000, 700]) sends.push(sink.send({ value: 'b'.repeat(size) }));
    release();
    await Promise.all(sends);
    expect(batches).toEqual([[10], [700, 700], [5_000], [700]]);
  });

  it("refuses to start when WEBHOOK_MAX_BODY_BYTES makes records above the raw topic's max.message.bytes, naming both", () => {
    const base = { WEBHOOK_APP_SECRETS: 'k1=s3cret', WEBHOOK_VERIFY_TOKEN: 'tok' };
    expect(() => loadWebhookConfig({ ...base, WEBHOOK_MAX_BODY_BYTES: String(16 * 1_048_576) })).toThrow(ConfigError);
    try {
      loadWebhookConfig({ ...base, WEBHOOK_MAX_BODY_BYTES: String(16 * 1_048_576) });
    } catch (err) {
      expect((err as ConfigError).problems[0]).toMatch(/^WEBHOOK_MAX_BODY_BYTES: .*max\.message\.bytes 2097152 of wa\.webhooks\.raw/);
    }
    expect(loadWebhookConfig(base).WEBHOOK_MAX_BODY_BYTES).toBe(1_048_576);
    expect(bodyLimitProblem(1_048_576, 1_048_588, 'raw')).toMatch(/at most \d+/);
  });
});

describe('webhook: inbound text and payloads of hostile size', () => {
  it('keyword normalisation is linear: 64 KB of punctuation between two letters takes milliseconds (was seconds)', () => {
    const hostile = `x${'!'.repeat(64 * 1024)}x`;
    const t0 = performance.now();
    normaliseKeyword(hostile);
    normaliseKeyword(`${' .'.repeat(32 * 1024)}STOP${'. '.repeat(32 * 1024)}`);
    expect(performance.now() - t0).toBeLessThan(250);
    expect(normaliseKeyword('  Arrêt ! ')).toBe('ARRET');
    expect(normaliseKeyword('stop 🛑')).toBe('STOP');
    const matcher = createKeywordMatcher({ optOut: ['STOP'], optIn: ['START'] });
    expect(matcher.classify(`STOP${' '.repeat(64 * 1024)}`)).toBeUndefined();
    expect(matcher.classify('stop.')).toBe('opt_out');
  });

  it('a quick-reply button payload is capped in length', () => {
    const ctx = { deliveryId: 'd'.repeat(64), receivedAt: '2025-07-01T10:00:00.000Z' };
    const out = normaliseWebhook(
      f.inboundButton({
        wamid: f.wamid(),
        from: '16505551234',
        timestamp: 1_751_364_000,
        text: 'Yes',
        payload: 'P'.repeat(100_000),
        contextWamid: 'wamid.ctx',
      }),
      ctx,
    );
    expect(out.inbound[0]!.buttonPayload!.length).toBeLessThanOrEqual(1_024);
  });
});
