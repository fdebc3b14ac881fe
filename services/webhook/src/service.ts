import { CompressionTypes } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import { createKafka, createProducer } from '@wa/shared/kafka';
import { ConsumerRunner, consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { systemClock, type Clock } from '@wa/shared/clock';
import { createLogger } from '@wa/shared/logger';
import { createMetricsRegistry } from '@wa/shared/metrics';
import { createReadiness } from '@wa/shared/readiness';
import { createRedis, type Redis } from '@wa/shared/redis';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { createShutdown } from '@wa/shared/shutdown';
import { topicName, topics } from '@wa/shared/topics';
import { concatRawRecords } from '@wa/shared/contracts/webhook-raw';
import { BatchingProducer } from './adapters/kafka-raw-producer';
import { Normaliser, type NormaliserTopics } from './adapters/kafka-normaliser';
import { ReadMarker } from './adapters/graph-read-marker';
import { RedisInboundThroughput } from './adapters/redis-inbound-throughput';
import { RedisState } from './adapters/redis-state';
import { parseAccessTokens } from '@wa/shared/catalog';
import { ConfigError } from '@wa/shared/config';
import { RAW_TOPIC_MAX_MESSAGE_BYTES, type WebhookConfig } from './config';
import { bodyLimitProblem } from './domain/raw-record';
import { createKeywordMatcher } from './domain/keywords';
import { buildApp } from './http/app';
import { createWebhookMetrics } from './metrics';

export interface WebhookServiceOverrides {
  logger?: Logger;
  registry?: Registry;
  /** Wall clock (window TTLs, DLQ timestamps); injected by tests. */
  clock?: Clock;
}

export function webhookTopics(prefix: string): NormaliserTopics {
  return {
    raw: topicName(topics.webhooksRaw, prefix),
    status: topicName(topics.eventsStatus, prefix),
    inbound: topicName(topics.eventsInbound, prefix),
    account: topicName(topics.eventsAccount, prefix),
    dlq: topicName(topics.notificationsDlq, prefix),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The webhook service: HTTP receiver (verify → persist to wa.webhooks.raw → ack) and the
 * normaliser consumer. `start()` listens at once and connects to Kafka in the background, so while
 * Kafka is unreachable the receiver answers 503 (Meta retries) instead of refusing connections.
 */
export function createWebhookService(config: WebhookConfig, overrides: WebhookServiceOverrides = {}) {
  const logger = overrides.logger ?? createLogger({ service: 'webhook', level: config.LOG_LEVEL });
  const registry = overrides.registry ?? createMetricsRegistry('webhook');
  const clock = overrides.clock ?? systemClock;
  // `raw` is declared below; the gauge reads it only when scraped.
  const metrics = createWebhookMetrics(registry, { queuedRecords: () => raw.queued });
  const readiness = createReadiness();
  const names = webhookTopics(config.TOPIC_PREFIX);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'wa-webhook', logger });
  // Not idempotent: see createProducer (answering Meta 503 forever would be the failure).
  const producer = createProducer(kafka);
  // Read from the live topic at start-up (checkRawTopic); until then, and if Kafka was unreachable, records are partitioned by key.
  let rawPartitions: number | undefined;
  const raw = new BatchingProducer({
    producer,
    topic: names.raw,
    maxBatch: config.WEBHOOK_PRODUCE_MAX_BATCH,
    // Room under the topic's limit for the batch framing.
    maxBatchBytes: RAW_TOPIC_MAX_MESSAGE_BYTES - 64 * 1024,
    maxInFlight: config.WEBHOOK_PRODUCE_MAX_INFLIGHT,
    lingerMs: config.WEBHOOK_PRODUCE_LINGER_MS,
    timeoutMs: config.WEBHOOK_PRODUCE_TIMEOUT_MS,
    maxQueued: config.WEBHOOK_PRODUCE_MAX_QUEUED,
    ...(config.KAFKA_COMPRESSION === 'gzip' ? { compression: CompressionTypes.GZIP } : {}),
    partitions: () => rawPartitions,
    // One Kafka record per produce call holding every delivery of the batch (format 2); keyed by delivery id when alone.
    combine: (messages) => (messages.length === 1 ? messages[0]! : { key: null, value: concatRawRecords(messages.map((m) => m.value as Buffer)) }),
    onSend: (records, seconds, ok) => {
      metrics.produceDuration.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
      metrics.produceBatchSize.observe(records);
    },
  });
  const normaliserGroup = consumerGroupId(config.NORMALISER_GROUP_ID, config);
  const redis = config.NORMALISER_ENABLED ? createRedis(config.REDIS_URL) : undefined;
  const readMarker =
    redis !== undefined && config.MARK_INBOUND_READ && config.WA_ACCESS_TOKENS !== undefined
      ? new ReadMarker({
          baseUrl: config.GRAPH_API_BASE_URL,
          version: config.GRAPH_API_VERSION,
          accessTokens: parseAccessTokens(config.WA_ACCESS_TOKENS),
          perNumberMps: config.MARK_READ_MPS,
          maxQueued: config.MARK_READ_MAX_QUEUED,
          timeoutMs: 5_000,
          redis,
          keys: createRedisKeys(config.REDIS_KEY_PREFIX),
          counter: metrics.markRead,
          logger: logger.child({ component: 'read-marker' }),
          clock,
        })
      : undefined;
  const normaliser =
    redis === undefined
      ? undefined
      : new Normaliser({
          producer,
          state: new RedisState(redis, createRedisKeys(config.REDIS_KEY_PREFIX), {
            dedupeTtlS: config.NORMALISER_DEDUPE_TTL_S,
            dedupeBucketBits: config.NORMALISER_DEDUPE_BUCKET_BITS,
            clock,
          }),
          inboundThroughput: new RedisInboundThroughput(redis, createRedisKeys(config.REDIS_KEY_PREFIX), { clock, weight: config.INBOUND_THROUGHPUT_WEIGHT }),
          keywords: createKeywordMatcher({ optOut: config.OPT_OUT_KEYWORDS, optIn: config.OPT_IN_KEYWORDS }),
          topics: names,
          metrics,
          logger: logger.child({ component: 'normaliser' }),
          clock,
          ...(readMarker ? { onInbound: (events: InboundEventV1[]) => readMarker.offer(events) } : {}),
        });
  const consumer =
    normaliser === undefined
      ? undefined
      : new ConsumerRunner({
          kafka,
          groupId: normaliserGroup,
          topics: [names.raw],
          consumer: {
            maxBytes: 4 * 1_048_576,
            // Fewer, larger batches: each batch costs Redis and Kafka round trips (socket writes are a
            // large share of the normaliser's CPU), and on a shared machine that CPU delays the receiver.
            minBytes: config.NORMALISER_FETCH_MIN_BYTES,
            maxWaitTimeInMs: config.NORMALISER_FETCH_MAX_WAIT_MS,
          },
          eachBatch: (payload, ctx) => normaliser.handleBatch(payload, ctx),
          logger: logger.child({ component: 'normaliser' }),
          metrics: metrics.consumer,
          // Until Kafka answers: retried at a fixed interval.
          rebuildBackoff: { baseMs: config.WEBHOOK_KAFKA_CONNECT_RETRY_MS, maxMs: config.WEBHOOK_KAFKA_CONNECT_RETRY_MS, jitter: 'none' },
          clock,
        });

  const app = buildApp({
    secrets: config.WEBHOOK_APP_SECRETS,
    verifyToken: config.WEBHOOK_VERIFY_TOKEN,
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
    sink: raw,
    metrics,
    registry,
    readiness,
    logger,
    clock,
    receiver: config.WEBHOOK_RECEIVER_ENABLED,
  });

  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  let stopping = false;
  let producerReady: Promise<void> | undefined;

  async function connectProducer(): Promise<void> {
    for (let attempt = 1; !stopping; attempt += 1) {
      try {
        await producer.connect();
        if (stopping) {
          // close() ran while we were connecting: do not leave a connection behind.
          await producer.disconnect();
          return;
        }
        raw.setConnected(true);
        logger.info({ attempt }, 'producer connected');
        return;
      } catch (err) {
        logger.warn({ err, attempt }, 'Kafka unreachable; answering 503 until it is back');
        await sleep(config.WEBHOOK_KAFKA_CONNECT_RETRY_MS);
      }
    }
  }

  async function connectRedis(client: Redis): Promise<void> {
    for (let attempt = 1; !stopping; attempt += 1) {
      try {
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        await client.ping();
        return;
      } catch (err) {
        logger.warn({ err, attempt }, 'Redis unreachable; normaliser waits');
        await sleep(config.WEBHOOK_KAFKA_CONNECT_RETRY_MS);
      }
    }
  }

  async function runNormaliser(): Promise<void> {
    if (consumer === undefined || redis === undefined) return;
    await producerReady;
    await connectRedis(redis);
    if (stopping) return;
    await consumer.startWithRetry();
    if (consumer.running) logger.info({ topic: names.raw, groupId: normaliserGroup }, 'normaliser consuming');
  }

  /**
   * The live raw topic may have been created or altered with a smaller max.message.bytes than the body limit
   * needs: refuse to start, naming both. Also learns its partition count. Kafka unreachable: skipped (the
   * receiver answers 503 meanwhile).
   */
  async function checkRawTopic(): Promise<void> {
    const admin = kafka.admin();
    let limit: number | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 5_000).unref());
      await Promise.race([admin.connect(), timeout]);
      const described = await Promise.race([
        admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: names.raw, configNames: ['max.message.bytes'] }] }),
        timeout,
      ]);
      const value = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
      if (value !== undefined) limit = Number(value);
      const metadata = await Promise.race([admin.fetchTopicMetadata({ topics: [names.raw] }), timeout]);
      rawPartitions = metadata.topics[0]?.partitions.length || undefined;
    } catch (err) {
      logger.warn({ err, topic: names.raw }, "could not read the raw topic's max.message.bytes at start-up; not checked");
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const problem = limit === undefined ? null : bodyLimitProblem(config.WEBHOOK_MAX_BODY_BYTES, limit, names.raw);
    if (problem) throw new ConfigError([problem]);
  }

  return {
    app,
    registry,
    metrics,
    readiness,
    logger,
    shutdown,
    topics: names,
    /** Connects to Kafka and Redis in the background (main.ts listens at once: 503 until Kafka answers). */
    async start(): Promise<void> {
      if (redis !== undefined) {
        const client = redis;
        readiness.addCheck('redis', () => client.ping());
        shutdown.add('redis', () => client.quit().catch(() => client.disconnect()));
      }
      readiness.addCheck('kafka', async () => {
        if (!raw.isConnected) throw new Error('producer not connected');
      });
      if (consumer !== undefined) {
        readiness.addCheck('normaliser', async () => {
          if (!consumer.running) throw new Error('normaliser not consuming');
        });
      }
      shutdown.add('producer', () => producer.disconnect());
      shutdown.add('raw-queue', () => raw.drain(Math.min(5_000, config.SHUTDOWN_TIMEOUT_MS / 2)));
      if (readMarker !== undefined) shutdown.add('read-marker', () => readMarker.close());
      if (consumer !== undefined) shutdown.add('normaliser', () => consumer.stop());
      shutdown.add('http', () => app.close());
      shutdown.add('readiness', () => {
        stopping = true;
        readiness.markStopping();
      });

      if (config.WEBHOOK_RECEIVER_ENABLED) await checkRawTopic();
      producerReady = connectProducer();
      void runNormaliser();
      readiness.markStarted();
    },
    /** Resolves when Kafka (and, with the normaliser on, the consumer) is up; rejects after timeoutMs. */
    async whenReady(timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const report = await readiness.evaluate();
        if (report.ready) return;
        if (Date.now() > deadline) throw new Error(`webhook service not ready: ${JSON.stringify(report.checks)}`);
        await sleep(50);
      }
    },
    /** Graceful, memoised: 503 to new requests, stop consuming, drain the raw queue, flush, close clients. */
    close(): Promise<boolean> {
      stopping = true;
      return shutdown.close();
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
