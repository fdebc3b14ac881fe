import type { RunningStack } from './stack';

/** What the CLI needs to reach a running stack (written to the env file `npm start` leaves for it). */
export function cliEnvironment(s: RunningStack): Record<string, string> {
  const analytics = s.env.analytics;
  return {
    INGEST_URL: s.urls.ingest,
    INGEST_API_TOKEN: s.secrets.ingestToken,
    DISPATCHER_URL: s.urls.dispatcher,
    ADMIN_TOKEN: s.secrets.adminToken,
    ANALYTICS_URL: s.urls.analytics,
    KAFKA_BROKERS: s.infra.kafka.brokers,
    TOPIC_PREFIX: analytics.TOPIC_PREFIX ?? '',
    REDIS_URL: s.infra.redis.url,
    REDIS_KEY_PREFIX: s.env.dispatcher.REDIS_KEY_PREFIX ?? '',
    // `templates sync|list|show` read the catalogue and call the (simulated) Graph API with these.
    ...(s.env.dispatcher.CATALOG_PATH ? { CATALOG_PATH: s.env.dispatcher.CATALOG_PATH } : {}),
    ...(s.env.dispatcher.WA_ACCESS_TOKENS ? { WA_ACCESS_TOKENS: s.env.dispatcher.WA_ACCESS_TOKENS } : {}),
    ...(s.env.dispatcher.GRAPH_API_BASE_URL ? { GRAPH_API_BASE_URL: s.env.dispatcher.GRAPH_API_BASE_URL } : {}),
    ...(s.env.ingest.AUDIENCE_ROOT ? { AUDIENCE_ROOT: s.env.ingest.AUDIENCE_ROOT } : {}),
    ...(analytics.CLICKHOUSE_URL ? { CLICKHOUSE_URL: analytics.CLICKHOUSE_URL } : {}),
    ...(analytics.CLICKHOUSE_PATH ? { CLICKHOUSE_PATH: analytics.CLICKHOUSE_PATH } : {}),
  };
}
