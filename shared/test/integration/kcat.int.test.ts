import { execFile } from 'node:child_process';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, createKafka, createProducer } from '../../src/kafka';
import { createLogger } from '../../src/logger';
import { requireTool, TOOLS } from '../../src/required-tools';
import { createTestTopic, deleteTopics, testInfra, uniqueName, waitFor } from '../../src/testing';

// A client that is not kafkajs (kcat, on librdkafka) must be able to use the same broker: the
// broker is a real Apache Kafka, not something shaped around kafkajs. CI installs kcat
// (.ci/run); on a machine without it this suite is skipped and npm test says why.
const kcatTool = requireTool(TOOLS.kcat);

const infra = testInfra();
const broker = infra.brokers.join(',');
const logger = createLogger({ service: 'kcat-int-test', level: 'silent' });
let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];

/** Runs kcat with `input` on stdin; rejects on a non-zero exit (with kcat's stderr in the message). */
function kcat(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', broker, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

describe('kcat (librdkafka) against the local broker', kcatTool.options, () => {
  beforeAll(async () => {
    kafka = createKafka({ brokers: infra.brokers, clientId: uniqueName('kcat-int'), logger });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await deleteTopics(admin, topics);
    await admin.disconnect();
  });

  it('lists the broker and a topic in its metadata', async () => {
    const topic = await createTestTopic(admin, 'it-kcat', { partitions: 2 });
    topics.push(topic);
    const metadata = JSON.parse(await kcat(['-L', '-J', '-t', topic])) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: unknown[] }[];
    };
    expect(metadata.brokers.map((b) => b.name)).toContain(infra.brokers[0]);
    expect(metadata.topics).toEqual([expect.objectContaining({ topic, partitions: expect.any(Array) })]);
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it('produces with kcat and consumes with a kafkajs consumer group', async () => {
    const topic = await createTestTopic(admin, 'it-kcat', { partitions: 2 });
    topics.push(topic);
    const lines = Array.from({ length: 10 }, (_, i) => `k${i}|from-kcat-${i}`);
    await kcat(['-P', '-t', topic, '-K', '|', '-X', 'acks=all'], `${lines.join('\n')}\n`);

    const consumer = createConsumer(kafka, { groupId: uniqueName('it-kcat-group'), maxWaitTimeInMs: 250 });
    const seen: { key: string; value: string }[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        },
      });
      await waitFor(() => seen.length >= lines.length, { timeoutMs: 30_000, description: 'records produced by kcat' });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.sort((x, y) => x.value.localeCompare(y.value))).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `from-kcat-${i}` })).sort((x, y) => x.value.localeCompare(y.value)),
    );
  });

  it('consumes with kcat what a kafkajs producer wrote, keys and partitions preserved', async () => {
    const topic = await createTestTopic(admin, 'it-kcat', { partitions: 3 });
    topics.push(topic);
    const producer = createProducer(kafka);
    await producer.connect();
    const messages = Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, key: `key-${i}`, value: `from-kafkajs-${i}` }));
    await producer.send({ topic, messages });
    await producer.disconnect();

    const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%k|%s\\n']);
    const records = out
      .trim()
      .split('\n')
      .map((line) => {
        const [partition, key, value] = line.split('|');
        return { partition: Number(partition), key, value };
      })
      .sort((x, y) => (x.key ?? '').localeCompare(y.key ?? ''));
    expect(records).toEqual(messages);
  });
});
