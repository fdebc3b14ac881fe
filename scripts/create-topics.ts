/**
 * Creates every topic of the system (`ALL_TOPICS` in @wa/shared) that does not exist yet.
 * Idempotent: existing topics are listed and left as they are (their partition count is never
 * lowered or changed here — repartitioning a keyed topic moves keys and is an operator decision).
 *
 *   npm run topics:create            KAFKA_BROKERS, KAFKA_PARTITIONS, KAFKA_RETENTION_MS, TOPIC_PREFIX
 */
import { z } from 'zod';
import { commonEnv, env, loadConfig } from '@wa/shared/config';
import { createKafka, ensureTopics, replicationFor } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { ALL_TOPICS, topicName } from '@wa/shared/topics';

const schema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  TOPIC_PREFIX: commonEnv.TOPIC_PREFIX,
  KAFKA_PARTITIONS: env.int('partitions of each topic created by topics:create (the unit of consumer parallelism)', 6, 1, 1_000),
  KAFKA_RETENTION_MS: env.int('retention.ms of each topic created by topics:create', 7 * 24 * 3_600_000, 60_000),
  TOPIC_REPLICATION_FACTOR: env.int(
    'copies of each partition of the topics created by topics:create; 0 = 3 on a cluster of three or more brokers, else 1',
    0,
    0,
    7,
  ),
  TOPIC_MIN_INSYNC_REPLICAS: env.int(
    'min.insync.replicas of the topics created by topics:create (with acks=all, writes need this many copies); 0 = 2 when replicated three or more times, else 1',
    0,
    0,
    7,
  ),
});

const config = loadConfig(schema);
const logger = createLogger({ service: 'create-topics', level: config.LOG_LEVEL });
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'wa-create-topics', logger });
const admin = kafka.admin();

const started = performance.now();
await admin.connect();
try {
  const { brokers } = await admin.describeCluster();
  const replicationFactor = replicationFor(brokers.length, config.TOPIC_REPLICATION_FACTOR);
  const created = await ensureTopics(admin, ALL_TOPICS, {
    partitions: config.KAFKA_PARTITIONS,
    replicationFactor,
    ...(config.TOPIC_MIN_INSYNC_REPLICAS > 0 ? { minInsyncReplicas: config.TOPIC_MIN_INSYNC_REPLICAS } : {}),
    retentionMs: config.KAFKA_RETENTION_MS,
    prefix: config.TOPIC_PREFIX,
  });
  const names = ALL_TOPICS.map((def) => topicName(def, config.TOPIC_PREFIX));
  const metadata = await admin.fetchTopicMetadata({ topics: names });
  const partitions = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  for (const name of names) {
    const mark = created.includes(name) ? 'created' : 'exists ';
    console.log(`${mark}  ${name.padEnd(40)} ${partitions.get(name) ?? '?'} partitions`);
  }
  console.log(`replication factor ${replicationFactor} on ${brokers.length} broker(s)`);
  console.log(`${created.length} created, ${names.length - created.length} already existed, ${Math.round(performance.now() - started)} ms`);
} finally {
  await admin.disconnect();
}
