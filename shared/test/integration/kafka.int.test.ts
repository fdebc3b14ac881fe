import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, createKafka, createProducer } from '../../src/kafka';
import { createLogger } from '../../src/logger';
import { createTestTopic, deleteTopics, testInfra, uniqueName, waitFor } from '../../src/testing';

// Proves that kafkajs 2.2.4 works against the broker scripts/kafka.sh runs, for everything the
// project relies on: admin topic creation, consumer groups and rebalances, manual commits, the
// idempotent producer. This file is the evidence behind the pinned version (docs/local-infra.md).

interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

const infra = testInfra();
const logger = createLogger({ service: 'kafka-int-test', level: 'silent' });
let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];
const consumers: Consumer[] = [];

beforeAll(async () => {
  kafka = createKafka({ brokers: infra.brokers, clientId: uniqueName('kafka-int'), logger });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
  await deleteTopics(admin, topics);
  await admin.disconnect();
});

async function newTopic(partitions: number): Promise<string> {
  const topic = await createTestTopic(admin, 'it-kafka', { partitions });
  topics.push(topic);
  return topic;
}

/** A consumer in `groupId` that commits each message's offset after recording it (at-least-once). */
function collectingConsumer(groupId: string) {
  const consumer = createConsumer(kafka, { groupId, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
  consumers.push(consumer);
  const seen: Seen[] = [];
  let assigned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = Object.values(event.payload.memberAssignment)
      .flat()
      .sort((a, b) => a - b);
  });
  return {
    consumer,
    seen,
    assigned: () => assigned,
    async start(topic: string): Promise<void> {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
          seen.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        },
      });
    },
  };
}

describe('kafkajs against the local broker', () => {
  it('round-trips keyed records through a consumer group, in order per key', async () => {
    const topic = await newTopic(3);
    const producer = createProducer(kafka);
    await producer.connect();
    const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`);
    const messages = keys.flatMap((key) => Array.from({ length: 6 }, (_, seq) => ({ key, value: `${key}:${seq}` })));
    await producer.send({ topic, messages });
    await producer.disconnect();

    const reader = collectingConsumer(uniqueName('it-group'));
    await reader.start(topic);
    await waitFor(() => reader.seen.length >= messages.length, { timeoutMs: 30_000, description: `${messages.length} records` });

    expect(reader.seen.map((s) => s.value).sort()).toEqual(messages.map((m) => m.value).sort());
    for (const key of keys) {
      const ofKey = reader.seen.filter((s) => s.key === key);
      expect(new Set(ofKey.map((s) => s.partition)).size).toBe(1);
      expect(ofKey.map((s) => s.value)).toEqual(Array.from({ length: 6 }, (_, seq) => `${key}:${seq}`));
    }
  });

  it('rebalances when a second consumer joins: both get partitions, no record is lost or re-read', async () => {
    const partitions = 4;
    const topic = await newTopic(partitions);
    const groupId = uniqueName('it-group');
    const producer = createProducer(kafka);
    await producer.connect();
    const batch = (label: string) => Array.from({ length: 40 }, (_, i) => ({ partition: i % partitions, key: `${label}-${i}`, value: `${label}-${i}` }));

    const a = collectingConsumer(groupId);
    await a.start(topic);
    await waitFor(() => a.assigned().length === partitions, { timeoutMs: 30_000, description: 'first consumer owning every partition' });
    const first = batch('before');
    await producer.send({ topic, messages: first });
    await waitFor(() => a.seen.length >= first.length, { timeoutMs: 30_000, description: 'first batch consumed by A' });

    const b = collectingConsumer(groupId);
    await b.start(topic);
    await waitFor(() => a.assigned().length > 0 && b.assigned().length > 0 && a.assigned().length + b.assigned().length === partitions, {
      timeoutMs: 60_000,
      description: 'partitions split between A and B',
    });
    expect([...a.assigned(), ...b.assigned()].sort()).toEqual([0, 1, 2, 3]);

    const second = batch('after');
    await producer.send({ topic, messages: second });
    await producer.disconnect();
    const all = () => [...a.seen, ...b.seen];
    await waitFor(() => all().length >= first.length + second.length, { timeoutMs: 30_000, description: 'second batch consumed' });

    // Every record exactly once: offsets committed before the rebalance are where B starts.
    expect(
      all()
        .map((s) => s.value)
        .sort(),
    ).toEqual([...first, ...second].map((m) => m.value).sort());
    // After the rebalance each record went to the consumer that owns its partition, and both worked.
    for (const { seen, assigned } of [a, b]) {
      const afterRebalance = seen.filter((s) => s.value.startsWith('after-'));
      expect(afterRebalance.length).toBeGreaterThan(0);
      for (const s of afterRebalance) expect(assigned()).toContain(s.partition);
    }
  });

  it('resumes after a restart from the last committed offset — not before it, not after it', async () => {
    const topic = await newTopic(1);
    const groupId = uniqueName('it-group');
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: null, value: `m-${i}` })) });
    await producer.disconnect();

    // First run sees all 20 records but commits only through offset 9 (next offset to read: 10).
    const first = createConsumer(kafka, { groupId, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
    consumers.push(first);
    const firstSeen: number[] = [];
    await first.connect();
    await first.subscribe({ topic, fromBeginning: true });
    await first.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset === 9) await first.commitOffsets([{ topic, partition, offset: '10' }]);
        firstSeen.push(offset);
      },
    });
    await waitFor(() => firstSeen.length >= 20, { timeoutMs: 30_000, description: 'first run reading all 20 records' });
    await first.disconnect();

    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions).toEqual([{ partition: 0, offset: '10', metadata: null }]);

    const second = collectingConsumer(groupId);
    await second.start(topic);
    await waitFor(() => second.seen.length >= 10, { timeoutMs: 30_000, description: 'restarted consumer reading the rest' });
    expect(second.seen.map((s) => s.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(second.seen[0]?.value).toBe('m-10');
  });

  // The services' default producer is not idempotent (see createProducer); this pins that the
  // idempotent mode still works against the pinned broker for anyone who opts into it.
  it('produces through the idempotent producer: concurrent sends land exactly once, with broker-side producer state', async () => {
    const topic = await newTopic(1);
    const producer = createProducer(kafka, { idempotent: true });
    await producer.connect();
    const sends = Array.from({ length: 10 }, (_, s) =>
      producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: `s${s}`, value: `s${s}-${i}` })) }),
    );
    await Promise.all(sends);
    await producer.disconnect();

    const [offsets] = await admin.fetchTopicOffsets(topic);
    expect(offsets?.high).toBe('200');
    const reader = collectingConsumer(uniqueName('it-group'));
    await reader.start(topic);
    await waitFor(() => reader.seen.length >= 200, { timeoutMs: 30_000, description: '200 records' });
    expect(new Set(reader.seen.map((s) => s.value)).size).toBe(200);

    // The broker tracks sequence numbers only for idempotent producers; an ordinary producer has no row here.
    const producers = await describeProducers(topic, 0);
    if (producers === undefined) return;
    expect(producers).toHaveLength(1);
    expect(producers[0]?.producerId).toBeGreaterThanOrEqual(0);
    expect(producers[0]?.lastSequence).toBe(199);
  });
});

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Kafka's own `kafka-transactions describe-producers` (DescribeProducers API, which kafkajs lacks),
 * run from the jars scripts/kafka.sh fetched. Undefined when those jars are not on this machine
 * (a broker provided by someone else).
 */
async function describeProducers(topic: string, partition: number): Promise<{ producerId: number; lastSequence: number }[] | undefined> {
  const pom = readFileSync(`${repoRoot}deploy/local/kafka/pom.xml`, 'utf8');
  const version = /<kafka\.version>([^<]+)</.exec(pom)?.[1];
  const libs = `${repoRoot}.cache/kafka/${version}/libs`;
  if (!existsSync(libs)) {
    console.warn(`describe-producers check skipped: no Kafka jars in ${libs} (run bash scripts/kafka.sh fetch)`);
    return undefined;
  }
  const { stdout } = await execFileAsync(
    'java',
    [
      '-Xmx128m',
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.tools.TransactionsCommand',
      '--bootstrap-server',
      infra.brokers.join(','),
      'describe-producers',
      '--topic',
      topic,
      '--partition',
      String(partition),
    ],
    { timeout: 60_000 },
  );
  const [header, ...rows] = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
  const id = header?.indexOf('ProducerId') ?? -1;
  const seq = header?.indexOf('LastSequence') ?? -1;
  if (id < 0 || seq < 0) throw new Error(`unexpected describe-producers output:\n${stdout}`);
  return rows.map((cols) => ({ producerId: Number(cols[id]), lastSequence: Number(cols[seq]) }));
}
