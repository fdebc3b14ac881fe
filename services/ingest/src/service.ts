import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { indexCatalog, loadCatalogFile, type CatalogIndex } from '@wa/shared/catalog';
import { createKafka, createProducer, kafkaError } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { LiveTemplates } from '@wa/shared/templates/store';
import { systemClock } from '@wa/shared/clock';
import { createLogger } from '@wa/shared/logger';
import { createMetricsRegistry } from '@wa/shared/metrics';
import { createReadiness } from '@wa/shared/readiness';
import { createRedis } from '@wa/shared/redis';
import { createShutdown } from '@wa/shared/shutdown';
import { topicName, topics } from '@wa/shared/topics';
import { createAudienceFileReader } from './adapters/audience-file';
import { createRequestConsumer, OWNER_HEADER } from './adapters/kafka-request-consumer';
import { createKafkaSink } from './adapters/kafka-sink';
import { createRedisExpansionStore } from './adapters/redis-expansion';
import { createRedisHoldStore } from './adapters/redis-holds';
import { createRedisIdempotencyStore } from './adapters/redis-idempotency';
import type { IngestConfig } from './config';
import { parseQuietHours } from './domain/schedule';
import { buildApp } from './http/app';
import { createIngestMetrics } from './metrics';
import { createPipeline } from './pipeline';
import type { Clock } from './ports';
import { createScheduler } from './scheduler';

export interface IngestOverrides {
  catalog?: CatalogIndex;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** Start the Kafka consumer (default true); an HTTP-only replica can turn it off. */
  consume?: boolean;
  /**
   * Called on a programmer error in a long-running loop. Default: rethrown outside any promise,
   * so the process handlers log it and exit 1 (the orchestrator restarts the process).
   */
  onFatal?: (err: unknown) => void;
}

/**
 * Wires the ingest service: clients, stores, pipeline, both front doors and the scheduler.
 * Nothing connects until `start()`; `close()` undoes start-up in reverse and is memoised.
 */
export function createIngestService(config: IngestConfig, overrides: IngestOverrides = {}) {
  const logger = overrides.logger ?? createLogger({ service: 'ingest', level: config.LOG_LEVEL });
  const registry = overrides.registry ?? createMetricsRegistry('ingest');
  const metrics = createIngestMetrics(registry);
  const clock = overrides.clock ?? systemClock;
  const readiness = createReadiness();
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });

  const redis = createRedis(config.REDIS_URL);
  const declared = overrides.catalog?.catalog ?? loadCatalogFile(config.CATALOG_PATH);
  // Templates synced from Meta (by the dispatcher) override the catalogue's declarations.
  const liveTemplates = new LiveTemplates(redis, {
    keys: createRedisKeys(config.REDIS_KEY_PREFIX),
    wabaIds: declared.businesses.map((b) => b.wabaId),
    refreshMs: config.TEMPLATE_REFRESH_MS,
    logger,
  });
  const catalog = indexCatalog(declared, liveTemplates.overlay);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'wa-ingest', logger });
  // Not idempotent: see createProducer; job ids are deterministic and the dispatcher's ledger dedupes them.
  const producer = createProducer(kafka);
  const onFatal =
    overrides.onFatal ??
    ((err: unknown) =>
      setImmediate(() => {
        throw err;
      }));
  const retry = { retryBaseMs: config.RETRY_BASE_MS, retryMaxMs: config.RETRY_MAX_MS, stallMs: config.WORKER_STALL_MS, onFatal };
  const admin = kafka.admin();
  const requestTopic = topicName(topics.notificationsRequested, config.TOPIC_PREFIX);

  const idempotency = createRedisIdempotencyStore(redis, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    bucketBits: config.IDEMPOTENCY_BUCKET_BITS,
  });
  const expansion = createRedisExpansionStore(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.PROGRESS_TTL_SECONDS });
  const holds = createRedisHoldStore(redis, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    bufferTtlSeconds: Math.max(86_400, Math.ceil(config.COALESCE_WINDOW_MS / 100)),
  });
  const expansions = createRedisHoldStore(redis, { keyPrefix: config.REDIS_KEY_PREFIX, bufferTtlSeconds: 86_400, name: 'expansions' });
  const audience = createAudienceFileReader(config.AUDIENCE_ROOT);
  const sink = createKafkaSink(producer, { topicPrefix: config.TOPIC_PREFIX, validateEveryJob: config.VALIDATE_EVERY_JOB });

  const pipeline = createPipeline({
    catalog,
    idempotency,
    expansion,
    holds,
    expansions,
    sink,
    audience,
    metrics,
    clock,
    logger,
    options: {
      service: 'ingest',
      coalesceWindowMs: config.COALESCE_WINDOW_MS,
      coalesceMaxJobs: config.COALESCE_MAX_JOBS,
      quietHours: parseQuietHours(config.QUIET_HOURS)!,
      notBeforeToleranceMs: config.NOT_BEFORE_TOLERANCE_MS,
      notBeforeHorizonMs: config.NOT_BEFORE_HORIZON_DAYS * 86_400_000,
      expansionChunkSize: config.EXPANSION_CHUNK_SIZE,
      produceBatchSize: config.PRODUCE_BATCH_SIZE,
      maxRecordBytes: config.MAX_RECORD_BYTES,
      dlqMaxOriginalBytes: config.DLQ_MAX_ORIGINAL_BYTES,
    },
  });
  const requestConsumer = createRequestConsumer({
    kafka,
    groupId: consumerGroupId(config.CONSUMER_GROUP, config),
    maxBytes: Math.max(10 * 1_048_576, config.MAX_RECORD_BYTES * 2),
    pipeline,
    topic: requestTopic,
    metrics,
    logger,
    clock,
    partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
    stallMs: config.CONSUMER_STALL_MS,
    restartBaseMs: config.RETRY_BASE_MS,
    restartMaxMs: config.RETRY_MAX_MS,
    onFatal,
  });
  const scheduler = createScheduler({
    name: 'scheduler',
    holds,
    pipeline,
    clock,
    logger,
    metrics,
    pollMs: config.SCHEDULER_POLL_MS,
    leaseMs: config.SCHEDULER_LEASE_MS,
    ...retry,
  });
  // Broadcasts expand one at a time per replica, beside the consumer; replicas share the queue.
  const expander = createScheduler({
    name: 'expander',
    holds: expansions,
    pipeline,
    clock,
    logger,
    metrics,
    pollMs: config.SCHEDULER_POLL_MS,
    leaseMs: config.SCHEDULER_LEASE_MS,
    batch: 1,
    expander: true,
    ...retry,
  });

  const app = buildApp({
    apiToken: config.INGEST_API_TOKEN,
    previousApiToken: config.INGEST_API_TOKEN_PREVIOUS,
    maxRecordBytes: config.MAX_RECORD_BYTES,
    batchBodyLimitBytes: config.HTTP_BATCH_BODY_LIMIT_BYTES,
    maxBatchJobs: config.HTTP_MAX_BATCH_JOBS,
    catalog,
    coalesceWindowMs: config.COALESCE_WINDOW_MS,
    notBeforeHorizonMs: config.NOT_BEFORE_HORIZON_DAYS * 86_400_000,
    clock,
    audience,
    registry,
    readiness,
    logger,
    async submit(items) {
      const owner = `h:${randomUUID()}`;
      const claims = await idempotency.claim(items.map((it) => ({ key: it.request.idempotencyKey, owner })));
      const fresh = items.filter((_, i) => claims[i] === 'new');
      try {
        if (fresh.length > 0) {
          await producer.sendBatch({
            acks: -1,
            topicMessages: [
              {
                topic: requestTopic,
                messages: fresh.map((it) => ({ key: topics.notificationsRequested.key(it.request), value: it.bytes, headers: { [OWNER_HEADER]: owner } })),
              },
            ],
          });
        }
      } catch (err) {
        // Nothing was enqueued under these claims: give the keys back so the caller's retry is not a "duplicate".
        await idempotency.release(fresh.map((it) => ({ key: it.request.idempotencyKey, owner }))).catch(() => undefined);
        throw kafkaError(err, 'enqueue requests');
      }
      for (const c of claims) metrics.requests.inc({ outcome: c === 'duplicate' ? 'http_duplicate' : 'http_enqueued', source: 'http' });
      return claims.map((c) => (c === 'duplicate' ? 'duplicate' : 'accepted'));
    },
  });

  readiness.addCheck('redis', () => redis.ping());
  readiness.addCheck('kafka', () => admin.describeCluster());
  // A dead or silent consumer / worker takes the replica out of service even while Kafka answers.
  if (overrides.consume ?? true) readiness.addCheck('consumer', () => requestConsumer.check());
  readiness.addCheck('scheduler', () => scheduler.check());
  readiness.addCheck('expander', () => expander.check());

  return {
    app: app as FastifyInstance,
    pipeline,
    scheduler,
    expander,
    requestConsumer,
    readiness,
    metrics,
    registry,
    logger,
    shutdown,
    async start(): Promise<void> {
      await redis.connect();
      shutdown.add('redis', () => redis.quit());
      await liveTemplates.start();
      shutdown.add('templates', () => liveTemplates.stop());
      await admin.connect();
      shutdown.add('kafka admin', () => admin.disconnect());
      await producer.connect();
      shutdown.add('producer', () => producer.disconnect());
      if (overrides.consume ?? true) {
        await requestConsumer.start();
        shutdown.add('consumer', () => requestConsumer.stop());
      }
      scheduler.start();
      shutdown.add('scheduler', () => scheduler.stop());
      expander.start();
      shutdown.add('expander', () => expander.stop());
      shutdown.add('http', () => app.close());
      shutdown.add('readiness', () => readiness.markStopping());
      readiness.markStarted();
    },
    close: () => shutdown.close(),
  };
}
export type IngestService = ReturnType<typeof createIngestService>;
