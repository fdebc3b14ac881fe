import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createKafka, createProducer, encodeJson, deadLetterV1, ensureTopics, topics, type DeadLetterV1 } from '@wa/shared';
import { deleteTopics, testInfra, uniqueName, waitFor } from '@wa/shared/testing';
import { readDlq, replayDlq } from '../src/dlq';

const prefix = `${uniqueName('cli')}.`;
const kafka = createKafka({ brokers: testInfra().brokers, clientId: 'cli-test', logger: pino({ level: 'silent' }) });
const admin = kafka.admin();
const producer = createProducer(kafka);
const dlqTopic = prefix + topics.notificationsDlq.name;
const sourceTopic = prefix + topics.notificationsRequested.name;

function deadLetter(i: number, reason: DeadLetterV1['reason']): DeadLetterV1 {
  return {
    v: 1,
    reason,
    detail: `bad ${i}`,
    service: 'ingest',
    source: { kind: 'kafka', topic: sourceTopic, partition: 0, offset: String(i) },
    originalKeyBase64: Buffer.from(`key-${i}`).toString('base64'),
    originalValueBase64: Buffer.from(`{"original":${i}}`).toString('base64'),
    originalTruncated: false,
    occurredAt: new Date().toISOString(),
  };
}

describe('DLQ tail and replay against the real broker (integration)', () => {
  beforeAll(async () => {
    await admin.connect();
    await ensureTopics(admin, [topics.notificationsDlq, topics.notificationsRequested], { partitions: 1, retentionMs: 3_600_000, prefix });
    await producer.connect();
    await producer.send({
      topic: dlqTopic,
      messages: [
        { value: encodeJson(deadLetterV1, deadLetter(1, 'schema_violation')) },
        { value: encodeJson(deadLetterV1, deadLetter(2, 'opted_out')) },
        { value: encodeJson(deadLetterV1, deadLetter(3, 'unknown_template')) },
        { value: Buffer.from('not a dlq record') },
      ],
    });
  });
  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(admin, [dlqTopic, sourceTopic]);
    await admin.disconnect();
  });

  it('tails every record with its reason, including unreadable ones', async () => {
    const reasons: string[] = [];
    const count = await readDlq(kafka, {
      topics: [dlqTopic],
      groupId: uniqueName('tail'),
      limit: 10,
      idleMs: 3000,
      commit: false,
      onEntry: async (e) => void reasons.push(e.record?.reason ?? `unreadable`),
    });
    expect(count).toBe(4);
    expect(reasons).toEqual(['schema_violation', 'opted_out', 'unknown_template', 'unreadable']);
  });

  it('replays fixable records byte for byte to their source, once across runs', async () => {
    const log: string[] = [];
    const first = await replayDlq(kafka, { dlq: 'notifications', prefix, limit: 100, dryRun: false, force: false, idleMs: 3000, log: (l) => log.push(l) });
    expect(first).toEqual({ replayed: 2, skipped: 2 });

    const received: { key: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('check') });
    await consumer.connect();
    await consumer.subscribe({ topics: [sourceTopic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push({ key: String(message.key), value: String(message.value) }) });
    await waitFor(() => received.length >= 2, { timeoutMs: 20_000, description: 'replayed records on the source topic' });
    await consumer.disconnect();
    expect(received).toEqual([
      { key: 'key-1', value: '{"original":1}' },
      { key: 'key-3', value: '{"original":3}' },
    ]);

    const second = await replayDlq(kafka, { dlq: 'notifications', prefix, limit: 100, dryRun: false, force: false, idleMs: 3000, log: () => undefined });
    expect(second).toEqual({ replayed: 0, skipped: 0 });
  });
});
