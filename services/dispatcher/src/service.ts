import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { standingBlocks } from '@wa/shared/account-standing';
import { indexCatalog, loadCatalogFile, parseAccessTokens, type Catalog } from '@wa/shared/catalog';
import { LANES_BY_PRIORITY } from '@wa/shared/contracts/common';
import { deadLetterV1, type DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { buildDeadLetter } from '@wa/shared/dead-letter';
import { encodeJson } from '@wa/shared/decode';
import { createKafka, createProducer } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createLogger } from '@wa/shared/logger';
import { createMetricsRegistry } from '@wa/shared/metrics';
import { createShutdown, type Shutdown } from '@wa/shared/shutdown';
import { createReadiness } from '@wa/shared/readiness';
import { createRedis } from '@wa/shared/redis';
import { createRedisKeys, SERVICE_WINDOW_MS } from '@wa/shared/redis-keys';
import { topicName, topics } from '@wa/shared/topics';
import { CloudApiHttp } from './adapters/cloud-api-http';
import { DispatchConsumer } from './adapters/kafka-consumer';
import { OutcomeProducer } from './adapters/kafka-producer';
import { GraphSenderSync } from './adapters/graph-sender-sync';
import { qualityIsLow } from './domain/quality-gate';
import { LiveTemplates, type TemplateOverlay } from '@wa/shared/templates/store';
import { TemplateSyncer } from '@wa/shared/templates/sync';
import { CampaignMedia } from './adapters/campaign-media';
import { RedisAccountState } from './adapters/redis-account-state';
import { RedisCampaigns } from './adapters/redis-campaigns';
import { RedisLedger } from './adapters/redis-ledger';
import { RedisMessagingLimits } from './adapters/redis-messaging-limits';
import { RedisInboundRates } from './adapters/redis-inbound-rates';
import { RedisSendGuard } from './adapters/redis-send-guard';
import type { DispatcherConfig } from './config';
import { createSemaphore } from './domain/semaphore';
import { createSendRoom, sendRoomCapacity } from './domain/send-room';
import { SendScheduler } from './domain/send-scheduler';
import { createJobHandler } from './handle-job';
import { buildApp } from './http/app';
import { createDispatcherMetrics } from './metrics';
import { systemClock, systemTimers, type Clock, type CloudApi } from './ports';

export interface DispatcherOverrides {
  logger?: Logger;
  registry?: Registry;
  clock?: Clock;
  catalog?: Catalog;
  random?: () => number;
  cloudApi?: CloudApi;
  /** Messaging-limit window (24 h in production; tests shorten it). */
  messagingLimitWindowMs?: number;
}

export interface DispatcherService {
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /** The process's shutdown: every start-up step registers its undo here. */
  readonly shutdown: Shutdown;
  /** The synced templates this dispatcher currently enforces. */
  readonly templates: TemplateOverlay;
  start(): Promise<void>;
  close(): Promise<boolean>;
}

/** Wires the dispatcher: clients → adapters → job handler → consumers → HTTP app. Does not listen. */
export function createDispatcherService(config: DispatcherConfig, overrides: DispatcherOverrides = {}): DispatcherService {
  const logger = overrides.logger ?? createLogger({ service: 'dispatcher', level: config.LOG_LEVEL });
  const registry = overrides.registry ?? createMetricsRegistry('dispatcher');
  // `limiter` is declared below; the counters read it only when scraped.
  const metrics = createDispatcherMetrics(registry, {
    heldSlots: () => limiter.heldSlots,
    lateWrites: () => limiter.lateWrites,
    lateAnswers: () => limiter.lateAnswers,
    connectionWaits: () => limiter.connectionWaits,
  });
  const readiness = createReadiness();
  const clock = overrides.clock ?? systemClock;
  const declared = overrides.catalog ?? loadCatalogFile(config.CATALOG_PATH);
  const accessTokens = parseAccessTokens(config.WA_ACCESS_TOKENS);
  const keys = createRedisKeys(config.REDIS_KEY_PREFIX);

  const redis = createRedis(config.REDIS_URL, { enableAutoPipelining: true });
  const wabaIds = declared.businesses.map((b) => b.wabaId);
  // Templates as Meta has them now (synced into the store) override the catalogue's declarations.
  const liveTemplates = new LiveTemplates(redis, { keys, wabaIds, refreshMs: config.TEMPLATE_REFRESH_MS, logger });
  const templateSyncer = config.TEMPLATE_SYNC
    ? new TemplateSyncer(redis, {
        keys,
        graph: { baseUrl: config.GRAPH_API_BASE_URL, version: config.GRAPH_API_VERSION, timeoutMs: config.HTTP_TIMEOUT_MS },
        accessTokens,
        wabaIds,
        intervalMs: config.TEMPLATE_SYNC_INTERVAL_MS,
        logger,
      })
    : undefined;
  const catalog = indexCatalog(declared, liveTemplates.overlay);
  // Pacing has a connection of its own, without auto-pipelining: ioredis keeps one auto-pipeline in flight
  // per connection and queues every later command until it is answered, so on the shared connection a
  // send's admission waited up to two round trips behind the jobs' checks (120+ ms at a dispatcher's
  // start, when a gapped number then sent 6-8 msg/s of 80), and a slot for as long.
  const pacingRedis = createRedis(config.REDIS_URL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'wa-dispatcher', logger });
  // Not idempotent: see createProducer; outcome events carry job ids that consumers dedupe.
  const producer = createProducer(kafka);
  const out = new OutcomeProducer(producer, { lingerMs: config.OUTCOME_LINGER_MS });

  // One permit per Graph API pool connection, held from the send admission to the answer (see SendScheduler).
  const connections = createSemaphore(config.HTTP_POOL_CONNECTIONS);
  const ledger = new RedisLedger(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlMs: config.LEDGER_TTL_MS, bucketBits: config.LEDGER_BUCKET_BITS });
  const account = new RedisAccountState(redis, { keys, keyPrefix: config.REDIS_KEY_PREFIX, catalog, refreshMs: config.STATE_REFRESH_MS, logger });
  const senderSync =
    config.SENDER_SYNC_INTERVAL_MS > 0
      ? new GraphSenderSync(redis, {
          baseUrl: config.GRAPH_API_BASE_URL,
          version: config.GRAPH_API_VERSION,
          accessTokens,
          catalog,
          keys,
          intervalMs: config.SENDER_SYNC_INTERVAL_MS,
          timeoutMs: config.HTTP_TIMEOUT_MS,
          stateTtlMs: 90 * 24 * 3_600_000,
          clock,
          logger,
        })
      : undefined;
  const guard = new RedisSendGuard(pacingRedis, { keyPrefix: config.REDIS_KEY_PREFIX, clock: systemTimers });
  const inboundRates = new RedisInboundRates(redis, { keys, clock, refreshMs: 1_000, logger });
  const limiter = new SendScheduler({
    guard,
    timers: systemTimers,
    memberPrefix: `${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    headroomFraction: config.INBOUND_HEADROOM_FRACTION,
    decreaseFactor: config.THROTTLE_DECREASE_FACTOR,
    coolDownMs: config.THROTTLE_COOLDOWN_MS,
    windowMs: config.THROUGHPUT_WINDOW_MS,
    limitOf: (id) => account.throughputMps(id),
    inboundOf: (id) => inboundRates.rateOf(id),
    clock,
    connections,
  });
  const limits = new RedisMessagingLimits(redis, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    windowMs: overrides.messagingLimitWindowMs ?? SERVICE_WINDOW_MS,
    pairIntervalMs: config.PAIR_LIMIT_INTERVAL_MS,
    pairBurst: config.PAIR_LIMIT_BURST,
    clock,
  });
  const campaigns = new RedisCampaigns(redis, { keyPrefix: config.REDIS_KEY_PREFIX, cacheMs: Math.min(1_000, config.STATE_REFRESH_MS) });
  const cloudApi =
    overrides.cloudApi ??
    new CloudApiHttp({
      baseUrl: config.GRAPH_API_BASE_URL,
      version: config.GRAPH_API_VERSION,
      connections: config.HTTP_POOL_CONNECTIONS,
      timeoutMs: config.HTTP_TIMEOUT_MS,
      connectTimeoutMs: config.HTTP_CONNECT_TIMEOUT_MS,
    });

  // SEND_ROOM_MS of each number's sends may be in their checks or waiting for a slot.
  const room = createSendRoom((id) => sendRoomCapacity(limiter.rateOf(id).targetMps, config.SEND_ROOM_MS));
  const handler = createJobHandler({
    catalog,
    accessTokens,
    ledger,
    limiter,
    room,
    limits,
    account,
    campaigns,
    cloudApi,
    campaignMedia: new CampaignMedia({
      redis,
      keys,
      baseUrl: config.GRAPH_API_BASE_URL,
      version: config.GRAPH_API_VERSION,
      timeoutMs: 30_000,
      allowedHosts: config.MEDIA_UPLOAD_HOSTS,
      clock,
      logger: logger.child({ component: 'campaign-media' }),
      counter: metrics.campaignMedia,
    }),
    publish: (records) => out.publish(records),
    metrics,
    clock,
    logger,
    random: overrides.random ?? Math.random,
    config: {
      topicPrefix: config.TOPIC_PREFIX,
      recipientHashSalt: config.RECIPIENT_HASH_SALT,
      optOutPolicy: config.OPT_OUT_POLICY,
      marketingHoldQuality: config.MARKETING_HOLD_QUALITY,
      unknownOutcomePolicy: config.UNKNOWN_OUTCOME_POLICY,
      campaignOverflowPolicy: config.CAMPAIGN_OVERFLOW_POLICY,
      retryMaxAttempts: config.RETRY_MAX_ATTEMPTS,
      retryBaseMs: config.RETRY_BASE_MS,
      retryMaxDelayMs: config.RETRY_MAX_DELAY_MS,
      pairIntervalMs: config.PAIR_LIMIT_INTERVAL_MS,
      claimWaitMs: config.HTTP_TIMEOUT_MS + 5_000,
    },
  });

  const dlqTopic = topicName(topics.dispatchDlq, config.TOPIC_PREFIX);
  const semaphore = createSemaphore(config.CONSUMER_CONCURRENCY);
  const common = {
    kafka,
    partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
    lookahead: config.CONSUMER_LOOKAHEAD_JOBS,
    commitIntervalMs: config.CONSUMER_COMMIT_INTERVAL_MS,
    semaphore,
    logger,
    clock,
    metrics: metrics.consumer,
    handle: handler.handle,
    poison: async (
      src: { topic: string; partition: number; offset: string; key: Buffer | null; value: Buffer },
      reason: DeadLetterV1['reason'],
      detail: string,
    ) => {
      const d = buildDeadLetter({
        reason,
        detail,
        service: 'dispatcher',
        source: { kind: 'kafka', topic: src.topic, partition: src.partition, offset: src.offset },
        key: src.key,
        value: src.value,
        occurredAtMs: clock.now(),
      });
      metrics.sends.inc({ sender: 'unknown', outcome: 'poison', error_class: reason });
      await out.publish([{ topic: dlqTopic, key: null, value: encodeJson(deadLetterV1, d) }]);
    },
  };
  // One consumer group per lane: a marketing backlog never delays fetching authentication jobs,
  // and the per-number limiter hands slots to the auth lane first.
  const consumers: { name: string; consumer: DispatchConsumer }[] = [
    ...LANES_BY_PRIORITY.map((lane) => ({
      name: lane,
      consumer: new DispatchConsumer({
        ...common,
        groupId: consumerGroupId(`${config.CONSUMER_GROUP}.${lane}`, config),
        topics: [topicName(topics.dispatchJobs[lane], config.TOPIC_PREFIX)],
        delayed: false,
      }),
    })),
    {
      name: 'retry',
      consumer: new DispatchConsumer({
        ...common,
        groupId: consumerGroupId(`${config.CONSUMER_GROUP}.retry`, config),
        topics: topics.dispatchRetry.map((r) => topicName(r.topic, config.TOPIC_PREFIX)),
        delayed: true,
        // A paused campaign's jobs wait in the retry topic; a resume or cancel releases them at once.
        dueEarly: async (job) => job.heldFor === 'campaign' && job.campaignId !== undefined && (await campaigns.state(job.campaignId)) !== 'paused',
      }),
    },
  ];
  campaigns.onChange((campaignId) => {
    const woken = consumers.reduce((n, { consumer }) => n + consumer.wake(), 0);
    logger.info({ campaignId, woken }, 'campaign state changed: held retry partitions looked at again');
  });

  const kafkaAdmin = kafka.admin();
  // Achieved send rate per number: 'sent' outcomes over the last five gauge ticks (beside the paced target).
  const sentHistory: Array<Map<string, number>> = [];
  const achievedRates = async () => {
    const now = new Map<string, number>();
    for (const v of (await metrics.sends.get()).values)
      if (v.labels.outcome === 'sent') now.set(String(v.labels.sender), (now.get(String(v.labels.sender)) ?? 0) + v.value);
    sentHistory.push(now);
    if (sentHistory.length > 6) sentHistory.shift();
    const first = sentHistory[0]!;
    const seconds = sentHistory.length - 1;
    for (const n of catalog.catalog.phoneNumbers)
      metrics.achievedRate.set({ sender: n.id }, seconds === 0 ? 0 : ((now.get(n.id) ?? 0) - (first.get(n.id) ?? 0)) / seconds);
  };

  const app = buildApp({
    adminToken: config.ADMIN_TOKEN,
    previousAdminToken: config.ADMIN_TOKEN_PREVIOUS,
    registry,
    readiness,
    catalog,
    campaigns,
    account,
    limiter,
    limits,
    overflowPolicy: config.CAMPAIGN_OVERFLOW_POLICY,
  });

  let gaugeTimer: NodeJS.Timeout | undefined;
  const updateGauges = async () => {
    for (const n of catalog.catalog.phoneNumbers) {
      const r = limiter.rateOf(n.id);
      metrics.currentRate.set({ sender: n.id }, r.targetMps);
      metrics.rateLimit.set({ sender: n.id }, r.limitMps);
      metrics.inboundRate.set({ sender: n.id }, r.inboundMps);
      metrics.qualityLow.set(
        { sender: n.id },
        qualityIsLow(account.quality(n.id), config.MARKETING_HOLD_QUALITY === 'never' ? 'RED' : config.MARKETING_HOLD_QUALITY) ? 1 : 0,
      );
    }
    for (const b of catalog.catalog.businesses) {
      metrics.messagingLimit.set({ portfolio: b.portfolioId }, account.messagingLimit(b.wabaId) ?? -1);
      metrics.messagingBudgetUsed.set({ portfolio: b.portfolioId }, await limits.used(b.portfolioId));
      metrics.accountPaused.set({ waba: b.wabaId }, account.accountPaused(b.wabaId) ? 1 : 0);
      const held = standingBlocks(account.standing(b.wabaId), clock.now());
      metrics.accountStandingHold.set({ waba: b.wabaId, hold: 'banned' }, held.all ? 1 : 0);
      metrics.accountStandingHold.set({ waba: b.wabaId, hold: 'business_initiated' }, held.businessInitiated ? 1 : 0);
      metrics.accountStandingHold.set({ waba: b.wabaId, hold: 'customer_initiated' }, held.customerInitiated ? 1 : 0);
    }
    await achievedRates();
    metrics.inFlight.set(semaphore.active);
    for (const { name, consumer } of consumers) metrics.lookahead.set({ consumer: name }, consumer.buffered);
    for (const n of catalog.catalog.phoneNumbers) metrics.roomWaiting.set({ sender: n.id }, room.occupancy(n.id).waiting);
    metrics.connectionsInUse.set(connections.active);
  };

  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  // Runs last on shutdown (registered first).
  shutdown.add('http', () => app.close());

  return {
    app,
    logger,
    /** The synced templates this dispatcher currently enforces. */
    templates: liveTemplates.overlay,
    shutdown,
    async start() {
      await redis.connect();
      shutdown.add('redis', () => redis.quit());
      readiness.addCheck('redis', () => redis.ping());
      await pacingRedis.connect();
      shutdown.add('pacing-redis', () => pacingRedis.quit());
      readiness.addCheck('pacing-redis', () => pacingRedis.ping());
      await producer.connect();
      shutdown.add('producer', () => producer.disconnect());
      // Ready means the broker answers, not only that a producer once connected.
      await kafkaAdmin.connect();
      shutdown.add('kafka-admin', () => kafkaAdmin.disconnect());
      readiness.addCheck('kafka', () => kafkaAdmin.describeCluster());
      shutdown.add('outcomes', () => out.drain());
      shutdown.add('cloud-api', () => cloudApi.close());
      await guard.calibrate();
      await ledger.start();
      shutdown.add('ledger', () => ledger.stop());
      await account.start();
      shutdown.add('account-state', () => account.stop());
      inboundRates.start();
      shutdown.add('inbound-rates', () => inboundRates.stop());
      if (senderSync) {
        senderSync.start();
        shutdown.add('sender-sync', () => senderSync.stop());
      }
      if (templateSyncer) {
        await templateSyncer.start();
        shutdown.add('template-sync', () => templateSyncer.stop());
      }
      await liveTemplates.start();
      shutdown.add('templates', () => liveTemplates.stop());
      await campaigns.start();
      shutdown.add('campaigns', () => campaigns.stop());
      shutdown.add('limiter', () => limiter.close());
      for (const { consumer } of consumers) {
        await consumer.start();
        shutdown.add('consumer', () => consumer.stop());
      }
      // First on shutdown: jobs still waiting for their number's room give up (they are fetched
      // again by the next owner) instead of waiting out a slow number's backlog.
      shutdown.add('send-room', () => room.close());
      readiness.addCheck('consumers', async () => {
        const down = consumers.filter((c) => !c.consumer.running).length;
        if (down > 0) throw new Error(`${down} lane consumer(s) being rebuilt after a Kafka crash`);
      });
      gaugeTimer = setInterval(() => void updateGauges().catch(() => undefined), 1_000);
      gaugeTimer.unref();
      shutdown.add('gauges', () => clearInterval(gaugeTimer));
      // First on shutdown: readiness goes off before anything stops.
      shutdown.add('readiness', () => readiness.markStopping());
      readiness.markStarted();
      logger.info({ numbers: catalog.catalog.phoneNumbers.length }, 'dispatcher started');
    },
    close: () => shutdown.close(),
  };
}
