import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOPICS, createKafka, createProducer, ensureTopics, topics } from '../../src';
import { deleteTopics, testInfra, uniqueName, waitFor } from '../../src/testing';

const prefix = `${uniqueName('topics')}.`;
const kafka = createKafka({ brokers: testInfra().brokers, clientId: 'topics-test', logger: pino({ level: 'silent' }) });
const admin = kafka.admin();

describe('topic creation from the shared definitions (integration)', () => {
  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await deleteTopics(
      admin,
      ALL_TOPICS.map((t) => prefix + t.name),
    );
    await admin.disconnect();
  });

  it('creates every topic once, with its own settings, and is idempotent', async () => {
    const created = await ensureTopics(admin, ALL_TOPICS, { partitions: 2, retentionMs: 3_600_000, prefix });
    expect(created.sort()).toEqual(ALL_TOPICS.map((t) => prefix + t.name).sort());
    expect(await ensureTopics(admin, ALL_TOPICS, { partitions: 2, retentionMs: 3_600_000, prefix })).toEqual([]);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: prefix + topics.webhooksRaw.name, configNames: ['max.message.bytes', 'retention.ms'] }],
    });
    const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'max.message.bytes': String(2 * 1024 * 1024), 'retention.ms': '3600000' });
  });

  it('takes a raw webhook record of a maximum-size (1 MiB) body, base64-encoded', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    const value = Buffer.from(JSON.stringify({ bodyBase64: Buffer.alloc(1024 * 1024, 0x61).toString('base64') }));
    expect(value.length).toBeGreaterThan(1_048_576);
    await producer.send({ topic: prefix + topics.webhooksRaw.name, acks: -1, messages: [{ key: 'big', value }] });
    await producer.disconnect();
    const offsets = await waitFor(
      async () => {
        const o = await admin.fetchTopicOffsets(prefix + topics.webhooksRaw.name);
        return o.reduce((n, p) => n + Number(p.high), 0) === 1 ? o : undefined;
      },
      { timeoutMs: 10_000, description: 'the large record on the raw topic' },
    );
    expect(offsets).toBeDefined();
  });
});
