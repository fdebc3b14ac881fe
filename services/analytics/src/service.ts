import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createClickHouse } from '@wa/shared/clickhouse';
import { createKafka } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createLogger } from '@wa/shared/logger';
import { createMetricsRegistry } from '@wa/shared/metrics';
import { readCampaign } from '@wa/shared/campaigns';
import { createReadiness } from '@wa/shared/readiness';
import { createRedis } from '@wa/shared/redis';
import { createShutdown, type Shutdown } from '@wa/shared/shutdown';
import { topicName, topics } from '@wa/shared/topics';
import { createAnalyticsQueries, type AnalyticsQueries } from './adapters/analytics-queries';
import { ClickHouseStore } from './adapters/clickhouse-store';
import type { TopicRole } from './adapters/event-buffer';
import { AnalyticsConsumer } from './adapters/kafka-analytics-consumer';
import { migrate } from './adapters/migrations';
import { createRollups, type Rollups } from './adapters/rollups';
import type { AnalyticsConfig } from './config';
import { createLatencyTracker } from './domain/latency-tracker';
import { createRateCard, parseRateCardCsv, type RateCard } from './domain/rate-card';
import { createRowMapper } from './domain/rows';
import { buildApp } from './http/app';
import { createAnalyticsMetrics } from './metrics';
import { rollupRestMs } from './domain/rollup-schedule';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface AnalyticsOverrides {
  logger?: Logger;
  registry?: Registry;
  clickhouse?: ClickHouseClient;
  kafka?: Kafka;
  /** The process's shutdown; main.ts passes the one its signal handlers run. */
  shutdown?: Shutdown;
}

export interface AnalyticsService {
  app: FastifyInstance;
  /** Consumer, migrations and roll-up refresh. */
  store: ClickHouseStore;
  /** The HTTP API and gauges (a connection of its own on the embedded engine; `store` on a server). */
  readStore: ClickHouseStore;
  queries: AnalyticsQueries;
  consumer: AnalyticsConsumer;
  rollups: Rollups;
  logger: Logger;
  /** The process's shutdown: every start-up step registers its undo here. */
  shutdown: Shutdown;
  /** Recomputes the gauges now (they also refresh on a timer). */
  refreshGauges(): Promise<void>;
  /** Recomputes dirty roll-up days now (they also refresh on a timer). */
  refreshRollups(): Promise<number>;
  start(): Promise<void>;
  close(): Promise<boolean>;
}

/** The topics analytics consumes and what each carries. */
export function analyticsTopics(prefix: string): Map<string, TopicRole> {
  return new Map<string, TopicRole>([
    [topicName(topics.messagesSent, prefix), 'sent'],
    [topicName(topics.eventsStatus, prefix), 'status'],
    [topicName(topics.eventsInbound, prefix), 'inbound'],
    [topicName(topics.eventsAccount, prefix), 'account'],
    [topicName(topics.notificationsDlq, prefix), 'notificationsDlq'],
    [topicName(topics.dispatchDlq, prefix), 'dispatchDlq'],
  ]);
}

/**
 * Wires the analytics service. Nothing does I/O until `start()`: ClickHouse → migrations → rate
 * card → consumer → gauges → ready. `close()` undoes it in reverse and is memoised.
 */
export async function createAnalyticsService(config: AnalyticsConfig, overrides: AnalyticsOverrides = {}): Promise<AnalyticsService> {
  const logger = overrides.logger ?? createLogger({ service: 'analytics', level: config.LOG_LEVEL });
  const registry = overrides.registry ?? createMetricsRegistry('analytics');
  const metrics = createAnalyticsMetrics(registry, { rollups: config.ANALYTICS_ROLLUPS });
  const readiness = createReadiness();
  const shutdown = overrides.shutdown ?? createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const connect = () =>
    createClickHouse({
      url: config.CLICKHOUSE_URL,
      path: config.CLICKHOUSE_PATH,
      database: config.CLICKHOUSE_DATABASE,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
    });
  const ch = overrides.clickhouse ?? (await connect());
  // The embedded engine runs one statement at a time per connection: API reads get their own, so a
  // backlog of them (clients that time out and ask again) cannot hold up the consumer's inserts or
  // the roll-up refresh. A server's client already spreads statements over a socket pool.
  const readCh = overrides.clickhouse || config.CLICKHOUSE_URL ? ch : await connect();
  const store = new ClickHouseStore(ch, config.CLICKHOUSE_DATABASE);
  const readStore = readCh === ch ? store : new ClickHouseStore(readCh, config.CLICKHOUSE_DATABASE);
  const queries = createAnalyticsQueries(readStore);
  const rollups = createRollups(store, logger.child({ component: 'rollups' }), {
    refreshed({ startedAtMs, seconds, days }) {
      metrics.rollupRefresh.observe(seconds);
      metrics.rollupsRefreshed(startedAtMs);
      if (seconds * 1000 > config.ROLLUP_REFRESH_MS) logger.info({ seconds, days }, 'roll-up refresh took longer than ROLLUP_REFRESH_MS');
    },
  });
  const kafka = overrides.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'analytics', logger });
  let rateCard: RateCard = createRateCard([]);
  const consumer = new AnalyticsConsumer({
    kafka,
    groupId: consumerGroupId(config.ANALYTICS_GROUP_ID, config),
    topics: analyticsTopics(config.TOPIC_PREFIX),
    store,
    mapper: createRowMapper({ salt: config.RECIPIENT_HASH_SALT, rateCard: () => rateCard }),
    tracker: createLatencyTracker(),
    metrics,
    logger: logger.child({ component: 'consumer' }),
    batchRows: config.ANALYTICS_BATCH_ROWS,
    flushIntervalMs: config.ANALYTICS_FLUSH_INTERVAL_MS,
    maxBytesPerPartition: config.ANALYTICS_MAX_BYTES_PER_PARTITION,
    fetchMinBytes: config.ANALYTICS_FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.ANALYTICS_FETCH_MAX_WAIT_MS,
  });
  // Campaign records (state, audience, progress) are the dispatcher's and ingest's, in Redis; the
  // dashboard only reads them, and shows "unavailable" rather than failing when Redis is away.
  const redis = createRedis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => logger.debug({ err }, 'redis error'));
  const app = buildApp({
    queries,
    registry,
    readiness,
    logger,
    dashboard: { title: config.DASHBOARD_TITLE, refreshMs: config.DASHBOARD_REFRESH_MS },
    campaignRecord: (id) => readCampaign(redis, config.REDIS_KEY_PREFIX, id),
  });
  readiness.addCheck('clickhouse', () => store.ping());

  async function reloadRateCard(): Promise<void> {
    rateCard = createRateCard(await store.loadRateCard());
  }

  async function refreshGauges(): Promise<void> {
    const [hour, day, spend] = await Promise.all([queries.deliveryRateSince(3_600), queries.deliveryRateSince(86_400), queries.spendByCategoryCountry()]);
    if (hour !== null) metrics.deliveryRate.set({ window: '1h' }, hour);
    if (day !== null) metrics.deliveryRate.set({ window: '24h' }, day);
    for (const s of spend) metrics.spendUsd.set({ category: s.category, country: s.country }, s.spendMicros / 1_000_000);
  }

  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let rollupTimer: NodeJS.Timeout | undefined;
  /** Refreshes roll-ups after `restMs`, then again after a rest that keeps the refresher within ROLLUP_MAX_BUSY_FRACTION. */
  const scheduleRollups = (restMs: number) => {
    rollupTimer = setTimeout(async () => {
      const t0 = performance.now();
      await rollups.refresh().catch((err) => logger.warn({ err }, 'roll-up refresh failed'));
      if (!stopped) scheduleRollups(rollupRestMs(config.ROLLUP_REFRESH_MS, performance.now() - t0, config.ROLLUP_MAX_BUSY_FRACTION));
    }, restMs);
    rollupTimer.unref();
  };
  const every = (ms: number, what: string, fn: () => Promise<void>) => {
    const t = setInterval(() => fn().catch((err) => logger.warn({ err }, `${what} failed`)), ms);
    t.unref();
    timers.push(t);
  };

  return {
    app,
    store,
    readStore,
    queries,
    consumer,
    rollups,
    logger,
    shutdown,
    refreshGauges,
    refreshRollups: () => rollups.refresh(),
    async start() {
      shutdown.add('close ClickHouse', async () => {
        if (readCh !== ch) await readCh.close();
        await ch.close();
      });
      shutdown.add('close Redis', () =>
        redis.quit().then(
          () => undefined,
          () => redis.disconnect(),
        ),
      );
      await redis.connect().catch((err) => logger.warn({ err }, 'Redis unreachable: the dashboard shows campaign records as unavailable until it is'));
      const migrated = await migrate(ch, { database: config.CLICKHOUSE_DATABASE, dir: MIGRATIONS_DIR });
      logger.info(migrated, 'migrations checked');
      if ((await store.rateCardSize()) === 0) {
        const path = resolve(config.RATE_CARD_PATH);
        const rows = parseRateCardCsv(await readFile(path, 'utf8'));
        await store.saveRateCard(rows);
        logger.warn({ path, rows: rows.length }, 'rate_card was empty: seeded it from the CSV (check that it is not SAMPLE data in production)');
      }
      await reloadRateCard();
      every(config.RATE_CARD_REFRESH_MS, 'rate card reload', reloadRateCard);
      shutdown.add('stop consumer (flush + commit)', () => consumer.close());
      await consumer.start();
      if (config.ANALYTICS_ROLLUPS) scheduleRollups(config.ROLLUP_REFRESH_MS);
      every(config.GAUGE_REFRESH_MS, 'gauge refresh', refreshGauges);
      shutdown.add('stop timers, finish a running roll-up refresh', async () => {
        stopped = true;
        timers.forEach(clearInterval);
        clearTimeout(rollupTimer);
        await rollups.idle();
      });
      shutdown.add('close HTTP', () => app.close());
      shutdown.add('readiness off', () => readiness.markStopping());
      readiness.markStarted();
      void refreshGauges().catch((err) => logger.warn({ err }, 'gauge refresh failed'));
    },
    close: () => shutdown.close(),
  };
}
