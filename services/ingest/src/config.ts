import { z } from 'zod';
import { commonEnv, env, loadConfig } from '@wa/shared/config';
import { parseQuietHours } from './domain/schedule';

export const ingestEnvSchema = z.object({
  ...commonEnv,
  HTTP_PORT: env.int('port of the ingest HTTP API (/v1/notifications, /metrics, /healthz, /readyz)', 8081, 0, 65_535),
  HTTP_HOST: z.string().default('0.0.0.0').describe('address the HTTP API listens on'),
  INGEST_API_TOKEN: env.string('token upstream callers present as `x-api-token` or `Authorization: Bearer`'),
  INGEST_API_TOKEN_PREVIOUS: env.optionalString('the token being rotated out: also accepted until callers use INGEST_API_TOKEN (see docs/security.md)'),
  CATALOG_PATH: env.string('sender/template catalogue JSON (see config/catalog.example.json)'),
  AUDIENCE_ROOT: env.optionalString('directory audience files must live in; audience paths outside it are refused (unset: audiences refused)'),
  CONSUMER_GROUP: z.string().min(1).default('wa-ingest').describe('Kafka consumer group of the ingest service'),
  IDEMPOTENCY_TTL_SECONDS: env.int('how long an idempotency key is remembered', 7 * 24 * 3600, 60),
  IDEMPOTENCY_BUCKET_BITS: env.int('log2 of the idempotency hash buckets per day: log2(requests a day / 64); 15 suits 2 M requests a day', 15, 0, 24),
  COALESCE_WINDOW_MS: env.int('per-recipient coalescing window; 0 turns coalescing off', 0, 0, 24 * 3_600_000),
  COALESCE_MAX_JOBS: env.int('most notifications merged into one digest', 20, 2, 100),
  QUIET_HOURS: z
    .string()
    .default('21-08')
    .refine((v) => parseQuietHours(v) !== null, 'quiet hours look like "21-08" (start hour - end hour, local time)')
    .describe('local-time window in which marketing with `quietHours: true` is held'),
  MAX_RECORD_BYTES: env.int('largest accepted request record / HTTP body', 1_048_576, 1_024, 64 * 1_048_576),
  HTTP_BATCH_BODY_LIMIT_BYTES: env.int('largest body of POST /v1/notifications:batch', 10 * 1_048_576, 1_024),
  HTTP_MAX_BATCH_JOBS: env.int('most jobs in one POST /v1/notifications:batch', 1_000, 1, 100_000),
  DLQ_MAX_ORIGINAL_BYTES: env.int('original bytes kept in a DLQ record (longer ones are truncated and flagged)', 262_144, 1_024),
  EXPANSION_CHUNK_SIZE: env.int('recipients expanded, produced and checkpointed together', 5_000, 1, 100_000),
  PRODUCE_BATCH_SIZE: env.int('dispatch jobs buffered before a produce across small requests', 5_000, 1, 100_000),
  VALIDATE_EVERY_JOB: env.bool('schema-check every produced dispatch job (default: the first of each produce call)', false),
  PARTITIONS_CONSUMED_CONCURRENTLY: env.int('partitions of the request topic processed in parallel', 3, 1, 64),
  SCHEDULER_POLL_MS: env.int('how often held work (not-before, quiet hours, coalescing) is checked', 250, 10),
  SCHEDULER_LEASE_MS: env.int('how long a replica owns a due item before another may take it', 60_000, 1_000),
  RETRY_BASE_MS: env.int('first backoff after a failed background poll or consumer restart (doubles, full jitter)', 250, 10),
  RETRY_MAX_MS: env.int('longest backoff between retries of a background poll or consumer restart', 10_000, 100),
  CONSUMER_STALL_MS: env.int('request consumer silent (no fetch, heartbeat or batch) this long: replaced, readiness off', 90_000, 10_000),
  WORKER_STALL_MS: env.int('a scheduler/expander poll without progress this long: readiness off', 120_000, 1_000),
  NOT_BEFORE_HORIZON_DAYS: env.int('furthest ahead a notBefore may lie; a later one is refused (HTTP 400, dead-lettered from Kafka)', 30, 1, 366),
  NOT_BEFORE_TOLERANCE_MS: env.int('a not-before closer than this is treated as due now', 1_000, 0),
  TEMPLATE_REFRESH_MS: env.int('safety-net re-read of the synced template store (changes are also announced at once)', 30_000, 100),
  PROGRESS_TTL_SECONDS: env.int('lifetime of expansion checkpoints and broadcast dedupe sets', 7 * 24 * 3600, 60),
});
export type IngestConfig = Readonly<z.output<typeof ingestEnvSchema>>;

export function loadIngestConfig(source: Record<string, string | undefined> = process.env): IngestConfig {
  return loadConfig(ingestEnvSchema, source);
}
