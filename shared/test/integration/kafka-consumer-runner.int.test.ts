import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../src/kafka';
import { ConsumerRunner, consumerGroupId } from '../../src/kafka-consumer-runner';
import { loadConfig, commonEnv } from '../../src/config';
import { createLogger } from '../../src/logger';
import { deleteTopics, testInfra, uniqueName, waitFor } from '../../src/testing';
import { z } from 'zod';

/**
 * Two environments share one cluster with different TOPIC_PREFIXes and the same service group
 * name: each must get its own consumer group, so each consumes its own topic's every record and
 * neither is assigned the other's partitions (before, both joined the unprefixed group).
 */
describe('consumer runner: group ids follow the prefix (real broker)', () => {
  const infra = testInfra();
  const logger = createLogger({ service: 'runner-test', level: 'silent' });
  const kafka: Kafka = createKafka({ brokers: infra.brokers, clientId: 'runner-test', logger });
  const admin: Admin = kafka.admin();
  const producer: Producer = createProducer(kafka);
  const base = uniqueName('runner-env');
  const prefixes = [`${base}-a.`, `${base}-b.`];
  const topic = (prefix: string) => `${prefix}events`;
  const runners: ConsumerRunner[] = [];

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    for (const p of prefixes) await ensureTopics(admin, [{ name: 'events' }], { partitions: 2, retentionMs: 3_600_000, prefix: p });
  });
  afterAll(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await producer.disconnect();
    await deleteTopics(admin, prefixes.map(topic));
    await admin.disconnect();
  });

  it('derives the group id from GROUP_PREFIX, else TOPIC_PREFIX', () => {
    const schema = z.object(commonEnv);
    expect(consumerGroupId('wa-ingest', loadConfig(schema, { TOPIC_PREFIX: 'staging.' }))).toBe('staging.wa-ingest');
    expect(consumerGroupId('wa-ingest', loadConfig(schema, { TOPIC_PREFIX: 'staging.', GROUP_PREFIX: 'blue.' }))).toBe('blue.wa-ingest');
    expect(consumerGroupId('wa-ingest', loadConfig(schema, {}))).toBe('wa-ingest');
  });

  it('runs two prefixes against one broker at once, each consuming only and all of its own records', async () => {
    const seen = new Map<string, string[]>(prefixes.map((p) => [p, []]));
    const name = uniqueName('svc-group');
    for (const p of prefixes) {
      const runner = new ConsumerRunner({
        kafka,
        groupId: consumerGroupId(name, { TOPIC_PREFIX: p }),
        topics: [topic(p)],
        consumer: { maxWaitTimeInMs: 200 },
        logger,
        async eachBatch({ batch }, ctx) {
          for (const m of batch.messages) seen.get(p)!.push(`${batch.topic}/${m.value!.toString()}`);
          const last = batch.messages.at(-1);
          if (last) await ctx.commit(last.offset);
        },
      });
      runners.push(runner);
    }
    await Promise.all(runners.map((r) => r.start()));
    expect(new Set(runners.map((r) => r.groupId)).size).toBe(2);

    const N = 40;
    for (const p of prefixes) {
      await producer.send({ topic: topic(p), acks: -1, messages: Array.from({ length: N }, (_, i) => ({ key: String(i), value: `${p}${i}` })) });
    }
    await waitFor(() => prefixes.every((p) => seen.get(p)!.length >= N), {
      timeoutMs: 30_000,
      description: () => `both environments consumed ${N} (${prefixes.map((p) => seen.get(p)!.length).join(', ')})`,
    });
    for (const p of prefixes) {
      const mine = seen.get(p)!;
      expect(
        mine.every((s) => s.startsWith(`${topic(p)}/${p}`)),
        'only its own topic',
      ).toBe(true);
      expect(new Set(mine).size).toBe(N);
      // Both partitions of its topic are assigned to its own (only) member.
      const { groups } = await admin.describeGroups([consumerGroupId(name, { TOPIC_PREFIX: p })]);
      expect(groups[0]!.members).toHaveLength(1);
    }
    // Committed per group: each group holds offsets for its own topic only.
    for (const p of prefixes) {
      const offsets = await admin.fetchOffsets({ groupId: consumerGroupId(name, { TOPIC_PREFIX: p }), topics: [topic(p)] });
      const total = offsets[0]!.partitions.reduce((n, x) => n + Math.max(0, Number(x.offset)), 0);
      expect(total).toBe(N);
    }
  });
});
