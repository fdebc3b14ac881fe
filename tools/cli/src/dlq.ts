import type { Kafka } from 'kafkajs';
import { createConsumer, createProducer, decodeJson, deadLetterV1, topics, type DeadLetterV1 } from '@wa/shared';
import { planReplay } from './dlq-replay';

export const DLQ_TOPICS = { notifications: topics.notificationsDlq.name, dispatch: topics.dispatchDlq.name } as const;
export type DlqName = keyof typeof DLQ_TOPICS;

export interface DlqEntry {
  topic: string;
  partition: number;
  offset: string;
  record: DeadLetterV1 | null;
  problem?: string;
}

/**
 * Reads DLQ records from the beginning (tail) or from the group's committed position (replay)
 * until `limit` records or `idleMs` without new records. Never commits for a tail.
 */
export async function readDlq(
  kafka: Kafka,
  options: { topics: string[]; groupId: string; limit: number; idleMs: number; commit: boolean; onEntry: (entry: DlqEntry) => Promise<void> },
): Promise<number> {
  const consumer = createConsumer(kafka, { groupId: options.groupId });
  await consumer.connect();
  let seen = 0;
  let lastActivity = Date.now();
  try {
    // The idle clock starts when the group is joined: joining alone can take seconds.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      lastActivity = Date.now();
    });
    await consumer.subscribe({ topics: options.topics, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (seen >= options.limit) return;
        lastActivity = Date.now();
        seen += 1;
        const decoded = decodeJson(deadLetterV1, message.value);
        await options.onEntry(
          decoded.ok
            ? { topic, partition, offset: message.offset, record: decoded.value }
            : { topic, partition, offset: message.offset, record: null, problem: decoded.detail },
        );
        if (options.commit) await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        if (seen >= options.limit) done();
      },
    });
    const idleTimer = setInterval(() => {
      if (Date.now() - lastActivity > options.idleMs) done();
    }, 100);
    await finished;
    clearInterval(idleTimer);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** Replays dead-lettered records to where they came from; returns what was replayed and skipped. */
export async function replayDlq(
  kafka: Kafka,
  options: {
    dlq: DlqName;
    prefix: string;
    reasons?: ReadonlySet<string>;
    limit: number;
    dryRun: boolean;
    force: boolean;
    idleMs: number;
    log: (line: string) => void;
  },
): Promise<{ replayed: number; skipped: number }> {
  const producer = createProducer(kafka);
  await producer.connect();
  let replayed = 0;
  let skipped = 0;
  try {
    await readDlq(kafka, {
      topics: [options.prefix + DLQ_TOPICS[options.dlq]],
      // A committed group makes replay resumable: a record is replayed once, even across runs.
      groupId: `${options.prefix}wa-cli-replay-${options.dlq}`,
      limit: options.limit,
      idleMs: options.idleMs,
      commit: !options.dryRun,
      onEntry: async (entry) => {
        if (!entry.record) {
          skipped += 1;
          options.log(`skip ${entry.partition}/${entry.offset}: not a DLQ record (${entry.problem})`);
          return;
        }
        const plan = planReplay(entry.record, { prefix: options.prefix, ...(options.reasons ? { reasons: options.reasons } : {}), force: options.force });
        if (!plan.replay) {
          skipped += 1;
          options.log(`skip ${entry.partition}/${entry.offset}: ${plan.why}`);
          return;
        }
        if (!options.dryRun) await producer.send({ topic: plan.topic, acks: -1, messages: [{ key: plan.key, value: plan.value }] });
        replayed += 1;
        options.log(`${options.dryRun ? 'would replay' : 'replayed'} ${entry.partition}/${entry.offset} (${entry.record.reason}) → ${plan.topic}`);
      },
    });
  } finally {
    await producer.disconnect();
  }
  return { replayed, skipped };
}
