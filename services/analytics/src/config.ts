import { z } from 'zod';
import { commonEnv, env, loadConfig } from '@wa/shared/config';

export const analyticsEnvSchema = z.object({
  ...commonEnv,
  HTTP_PORT: env.int('port of the query API, dashboard and /metrics', 8084, 0, 65_535),
  HTTP_HOST: z.string().default('0.0.0.0').describe('interface the HTTP server listens on'),
  CLICKHOUSE_URL: z.url().optional().describe('ClickHouse server HTTP URL; when unset ClickHouse is embedded (chdb)'),
  CLICKHOUSE_PATH: z.string().min(1).default('.data/clickhouse').describe('data directory of the embedded ClickHouse (chdb)'),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a ClickHouse identifier (letters, digits, underscore)')
    .default('wa')
    .describe('database holding the analytics tables and finance views'),
  CLICKHOUSE_USER: env.optionalString('ClickHouse user (server mode)'),
  CLICKHOUSE_PASSWORD: env.optionalString('ClickHouse password (server mode)'),
  RATE_CARD_PATH: z
    .string()
    .default('services/analytics/data/rate-card.sample.csv')
    .describe('rate card CSV seeded into an empty rate_card table at start-up (the shipped file is SAMPLE data)'),
  RATE_CARD_REFRESH_MS: env.int('how often the consumer reloads the rate card that finance may have edited', 60_000, 1_000),
  RECIPIENT_HASH_SALT: env.secretKey(
    "HMAC-SHA256 key (at least 32 bytes) hashing recipient numbers in status/inbound rows; the dispatcher's value, so hashes join across tables",
  ),
  ANALYTICS_GROUP_ID: z.string().min(1).default('wa-analytics').describe('Kafka consumer group of the analytics writer'),
  // 50,000 rather than 20,000: fewer, larger parts cost chdb less per event (parsing set-up, part writes, merges): 30.7k → 35.4k
  // events per CPU-second in bench:analytics, for ~120 MB more peak RSS (docs/analytics.md).
  ANALYTICS_BATCH_ROWS: env.int('flush to ClickHouse once this many events are buffered', 50_000, 1),
  // 5 s rather than 1 s: at live rates (a few thousand events/s) every flush is an INSERT per table, each a new part
  // that ClickHouse writes and later merges; end-to-end bench: 1.64 → 0.95 ms of analytics CPU per message at 200 msg/s.
  ANALYTICS_FLUSH_INTERVAL_MS: env.int('flush to ClickHouse at least this often when events are buffered (bounds how stale the tables are)', 5_000, 10),
  ANALYTICS_MAX_BYTES_PER_PARTITION: env.int('kafkajs fetch size per partition', 4 * 1024 * 1024, 1024),
  // Flushes are seconds apart anyway: a fetch that waits for 256 KiB costs one request per ~1,000 events, not one per few.
  ANALYTICS_FETCH_MIN_BYTES: env.int(
    'the broker holds an analytics fetch until this many bytes are available (or ANALYTICS_FETCH_MAX_WAIT_MS passed): fewer, larger fetches',
    262_144,
    1,
  ),
  ANALYTICS_FETCH_MAX_WAIT_MS: env.int(
    'longest the broker holds an analytics fetch waiting for ANALYTICS_FETCH_MIN_BYTES; also bounds how long stop() waits for it',
    1_000,
    10,
    10_000,
  ),
  ANALYTICS_ROLLUPS: env.bool('recompute roll-ups in this replica (enable in exactly one replica)', true),
  ROLLUP_REFRESH_MS: env.int(
    'how often dirty roll-up days are recomputed (start to start); finance views and the dashboard lag by this while refreshes are short',
    10_000,
    200,
  ),
  // A refresh recomputes whole days, so on a busy day it takes seconds: resting in proportion keeps it from occupying ClickHouse.
  ROLLUP_MAX_BUSY_FRACTION: env.number(
    'largest share of the time the roll-up refresher may run: after a refresh of d seconds it rests at least d × (1 / fraction − 1); the views then lag by more than ROLLUP_REFRESH_MS',
    0.25,
    0.01,
    1,
  ),
  GAUGE_REFRESH_MS: env.int('how often delivery-rate and spend gauges are recomputed from ClickHouse', 15_000, 500),
  DASHBOARD_REFRESH_MS: env.int('how often the dashboard page polls the API', 5_000, 500),
  DASHBOARD_TITLE: z.string().default('WhatsApp broadcaster — delivery & cost').describe('heading of the dashboard page'),
});

export type AnalyticsConfig = Readonly<z.output<typeof analyticsEnvSchema>>;

export function loadAnalyticsConfig(source: Record<string, string | undefined>): AnalyticsConfig {
  return loadConfig(analyticsEnvSchema, source);
}
