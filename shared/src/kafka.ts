import { Kafka, logLevel, type Admin, type Consumer, type ConsumerConfig, type Producer, type ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelayMs } from './backoff';
import { AppError } from './errors';
import { javaCompatiblePartitioner } from './kafka-partitioner';
import { installKafkajsIdleLoopFix } from './kafkajs-idle-loop';
import { waitFor, WaitForTimeoutError } from './wait-for';
import type { TopicDef } from './topics';

export interface KafkaOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

// Every process that talks to Kafka goes through this module: stop kafkajs' 1 ms idle timer loop once, here.
installKafkajsIdleLoopFix();

/** A kafkajs client whose internal logs go through pino (kafkajs' own logger is not JSON). */
export function createKafka(options: KafkaOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else log.debug(rest, message);
      },
  });
}

/**
 * Producer defaults for every producer (services, CLI, tests, benchmarks): acks from all in-sync
 * replicas, NOT idempotent, five requests in flight, and the Java-compatible partitioner so keys land
 * where other clients put them (kafkajs' DefaultPartitioner with an int32 murmur2; same partitions, no
 * Long allocations).
 *
 * Not idempotent because kafkajs' idempotent producer can get stuck for good on
 * OUT_OF_ORDER_SEQUENCE_NUMBER after its connections are cut mid-produce (seen in the webhook
 * partition drill and in ingest's broker-restart test: every later produce failed until the process
 * restarted). A retried produce may then duplicate a record, or, with several requests in flight,
 * land after a later one; every consumer dedupes by id (job ids in the dispatcher ledger, event ids in
 * the normaliser and analytics) and the state it folds is order-tolerant (forward-only statuses,
 * newer-wins Redis state), because Meta's own webhooks arrive duplicated and out of order anyway.
 * Five in flight rather than one: one request per broker round trip cost ingest ~15 % of its
 * throughput (bench:ingest, docs/ingest.md). Pass `{ idempotent: true }` where exactly-once per
 * partition is worth that risk.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  const { retry, ...rest } = config;
  // An idempotent producer must retry inside kafkajs (its sequence numbers); it keeps kafkajs' retry.
  if (config.idempotent)
    return kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: javaCompatiblePartitioner, ...config });
  const producer = kafka.producer({
    idempotent: false,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    createPartitioner: javaCompatiblePartitioner,
    ...rest,
    // kafkajs never retries a produce itself: see retryWholeProduce.
    retry: { ...retry, retries: 0 },
  });
  return retryWholeProduce(producer, { retries: retry?.retries ?? 8, baseMs: retry?.initialRetryTime ?? 200, maxMs: retry?.maxRetryTime ?? 5_000 });
}

/**
 * A producer whose `send` and `sendBatch` are retried whole, with back-off, on a retriable error.
 *
 * kafkajs' own produce retry skips the brokers that answered an earlier attempt of the same call;
 * when a broker dies mid-produce and its partitions move to one of those brokers, their records are
 * never sent and the call still resolves (kafkajs issue #1303: in the cluster drill, two outcome
 * events acknowledged this way were missing from the topic after `kill -9` of a partition leader).
 * Retrying the whole call may write a record twice, which every consumer here tolerates (see
 * createProducer); a record acknowledged as written is then really written.
 */
export function retryWholeProduce(
  producer: Producer,
  policy: { retries: number; baseMs: number; maxMs: number },
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Producer {
  const withRetry =
    <A, R>(call: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await call(args);
        } catch (err) {
          if (attempt >= policy.retries || !isRetriableProduceError(err)) throw err;
          await sleep(backoffDelayMs(attempt, { baseMs: policy.baseMs, maxMs: policy.maxMs, jitter: 'equal' }));
        }
      }
    };
  const send = withRetry(producer.send.bind(producer));
  const sendBatch = withRetry(producer.sendBatch.bind(producer));
  return Object.assign(Object.create(producer) as Producer, { send, sendBatch });
}

/** kafkajs marks transient failures retriable; with its own retries off they arrive wrapped in "number of retries exceeded". */
export function isRetriableProduceError(err: unknown): boolean {
  const e = err as { name?: string; retriable?: boolean; originalError?: { retriable?: boolean } } | undefined;
  if (!e) return false;
  if (e.retriable === true) return true;
  if (
    e.name === 'KafkaJSNumberOfRetriesExceeded' ||
    e.name === 'KafkaJSConnectionError' ||
    e.name === 'KafkaJSConnectionClosedError' ||
    e.name === 'KafkaJSRequestTimeoutError'
  )
    return true;
  return e.originalError?.retriable === true;
}

/** Consumer defaults for at-least-once processing with manual commits. */
export function createConsumer(kafka: Kafka, config: ConsumerConfig): Consumer {
  return kafka.consumer({
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    rebalanceTimeout: 60_000,
    maxBytesPerPartition: 2 * 1024 * 1024,
    allowAutoTopicCreation: false,
    ...config,
  });
}

export interface TopicSettings {
  partitions: number;
  retentionMs: number;
  prefix?: string;
  /** Copies of each partition (default 1: a single broker). */
  replicationFactor?: number;
  /** Copies that must have a write before acks=all succeeds (default: 2 when replicated three or more times, else 1). */
  minInsyncReplicas?: number;
  /** How long to wait for the new topics' partition leaders when kafkajs gives up on them (default 30 s). */
  leaderWaitMs?: number;
}

/** The part of kafkajs' Admin that topic creation uses. */
export type TopicAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'>;

/** Creates missing topics; existing topics are left as they are (creation is idempotent). */
export async function ensureTopics(admin: TopicAdmin, defs: readonly Pick<TopicDef<never>, 'name' | 'config'>[], settings: TopicSettings): Promise<string[]> {
  const prefix = settings.prefix ?? '';
  const existing = new Set(await admin.listTopics());
  const missing = defs.filter((d) => !existing.has(prefix + d.name));
  if (missing.length === 0) return [];
  const names = missing.map((d) => prefix + d.name);
  const replicationFactor = settings.replicationFactor ?? 1;
  const minInsync = settings.minInsyncReplicas ?? defaultMinInsyncReplicas(replicationFactor);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((def, i) => ({
        topic: names[i]!,
        numPartitions: settings.partitions,
        replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(settings.retentionMs) },
          { name: 'min.insync.replicas', value: String(minInsync) },
          ...Object.entries(def.config ?? {}).map(([name, value]) => ({ name, value })),
        ],
      })),
    });
  } catch (err) {
    // Right after a create, a freshly started KRaft broker can answer kafkajs' leader wait with a
    // retriable UNKNOWN_TOPIC_OR_PARTITION, on which kafkajs gives up although the topics were created
    // (seen once, on a broker started seconds before). Wait for the leaders here instead.
    if ((err as { retriable?: unknown }).retriable !== true) throw err;
    await waitForLeaders(admin, names, settings.leaderWaitMs ?? 30_000);
  }
  return names;
}

/**
 * Replication for topics on a cluster of `brokers`: three copies where there are three or more
 * brokers (one may be lost without losing an acknowledged write), else one; an explicit value wins.
 */
export function replicationFor(brokers: number, explicit?: number): number {
  if (explicit !== undefined && explicit > 0) return explicit;
  return brokers >= 3 ? 3 : 1;
}

/** With three or more copies, a write needs two of them (acks=all); fewer copies need only one. */
export function defaultMinInsyncReplicas(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}

/** Resolves once every partition of these topics has a leader; rejects after `timeoutMs`. */
async function waitForLeaders(admin: TopicAdmin, topicNames: string[], timeoutMs: number): Promise<void> {
  try {
    await waitFor(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: topicNames });
        return topics.length === topicNames.length && topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      },
      { timeoutMs, intervalMs: 100 },
    );
  } catch (err) {
    const last = err instanceof WaitForTimeoutError && err.cause instanceof Error ? err.cause.message : 'some partitions have no leader yet';
    throw new Error(`topics ${topicNames.join(', ')} have no partition leaders after ${timeoutMs} ms: ${last}`, { cause: err });
  }
}

/**
 * Wraps a kafkajs failure into an AppError. Broker or network trouble is transient whatever kafkajs
 * says: "retries exhausted" and "non-retriable" wrappers around a refused or closed connection
 * still mean "try again later" (so HTTP callers get 503, not 500). Only a protocol error the broker
 * gives for the record itself (too large, invalid) is final for that record.
 */
export function kafkaError(err: unknown, operation: string): AppError {
  const message = err instanceof Error ? err.message : String(err);
  const permanent = isRecordRejection(err);
  return new AppError(permanent ? 'kafka_record_rejected' : 'kafka_unavailable', `${operation}: ${message}`, permanent ? 'dead-letter' : 'retry', {
    cause: err,
  });
}

const RECORD_REJECTIONS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_REQUIRED_ACKS']);

function isRecordRejection(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && RECORD_REJECTIONS.has(type)) return true;
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
