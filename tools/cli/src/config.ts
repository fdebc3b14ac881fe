import { z } from 'zod';
import { commonEnv, env } from '@wa/shared/config';

/** The CLI's environment: where the services answer, and the tokens to call them with. */
export const cliConfigSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn').describe('pino log level of the CLI'),
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  TOPIC_PREFIX: commonEnv.TOPIC_PREFIX,
  INGEST_URL: env.url('base URL of the ingest HTTP API', 'http://127.0.0.1:8081'),
  INGEST_API_TOKEN: env.optionalString('API token for the ingest HTTP API'),
  DISPATCHER_URL: env.url('base URL of the dispatcher admin API', 'http://127.0.0.1:8082'),
  ADMIN_TOKEN: env.optionalString('token of the dispatcher admin API (campaign pause/resume/cancel)'),
  ANALYTICS_URL: env.url('base URL of the analytics API', 'http://127.0.0.1:8084'),
  CLICKHOUSE_URL: z.url().optional().describe('ClickHouse server HTTP URL for `sql`; when unset, the embedded engine at CLICKHOUSE_PATH'),
  CLICKHOUSE_PATH: z.string().min(1).default('.data/clickhouse').describe('data directory of the embedded ClickHouse (`sql`; only one process may open it)'),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
    .default('wa')
    .describe('database of the analytics tables and finance views'),
  CLICKHOUSE_USER: env.optionalString('ClickHouse user (server mode)'),
  CLICKHOUSE_PASSWORD: env.optionalString('ClickHouse password (server mode)'),
  AUDIENCE_ROOT: env.optionalString(
    "ingest's AUDIENCE_ROOT when it shares this disk (npm start sets it): broadcast checks --audience against it before sending",
  ),
  // `templates sync|list|show`: the template store in Redis and, for sync, Meta's Graph API.
  REDIS_URL: commonEnv.REDIS_URL,
  REDIS_KEY_PREFIX: commonEnv.REDIS_KEY_PREFIX,
  CATALOG_PATH: env.optionalString('catalogue JSON naming the business accounts (templates commands)'),
  WA_ACCESS_TOKENS: env.optionalString('Graph API tokens "wabaId=token,…" (templates sync)'),
  GRAPH_API_BASE_URL: env.url('Graph API base URL (templates sync)', 'http://127.0.0.1:8090'),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v23.0')
    .describe('Graph API version (templates sync)'),
});
export type CliConfig = z.output<typeof cliConfigSchema>;
