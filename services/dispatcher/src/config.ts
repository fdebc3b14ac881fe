import { z } from 'zod';
import { commonEnv, env, loadConfig } from '@wa/shared/config';
import { THROUGHPUT_WINDOW_MS } from '@wa/shared/redis-keys';

/** The dispatcher's environment; parsed once at start-up, frozen, passed down. */
export const dispatcherEnvSchema = z.object({
  ...commonEnv,
  HTTP_PORT: env.int('admin/ops HTTP port', 8082, 0, 65_535),
  CATALOG_PATH: env.string('path of the sender/template catalogue JSON (see config/catalog.example.json)'),
  WA_ACCESS_TOKENS: env.string('Graph API access tokens by business account: "wabaId=token,wabaId=token"'),
  GRAPH_API_BASE_URL: env.url('Graph API base URL (the simulator locally, https://graph.facebook.com in production)', 'http://127.0.0.1:8090'),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v24.0')
    .describe('Graph API version (docs/meta-contract.md says what v24.0 changes)'),
  SENDER_SYNC_INTERVAL_MS: env.int(
    "how often each number's throughput level, quality rating and the portfolio's messaging limit are read from the Graph API (also once at start-up) — webhooks get lost or arrive late; 0 = never",
    300_000,
    0,
  ),
  MEDIA_UPLOAD_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .describe(
      'hosts the dispatcher may download campaign media from to upload it once ({link, upload: true}), comma-separated; empty = such media is sent by link',
    ),
  TEMPLATE_SYNC: env.bool(
    "copy the business accounts' templates from GET /{waba-id}/message_templates into the template store (at start-up, periodically, on template webhooks)",
    true,
  ),
  TEMPLATE_SYNC_INTERVAL_MS: env.int('periodic template sync; template webhooks trigger one at once besides', 600_000, 1_000),
  TEMPLATE_REFRESH_MS: env.int('safety-net re-read of the synced template store (changes are also announced at once)', 30_000, 100),
  ADMIN_TOKEN: env.string('bearer token of the admin API (campaign pause/resume/cancel, senders)'),
  ADMIN_TOKEN_PREVIOUS: env.optionalString('the admin token being rotated out: also accepted until operators use ADMIN_TOKEN (see docs/security.md)'),
  RECIPIENT_HASH_SALT: env.secretKey(
    'HMAC-SHA256 key (at least 32 bytes) of the recipient hash carried in audit events; the same value as analytics, never changed once data exists',
  ),
  CONSUMER_GROUP: z.string().min(1).default('wa-dispatcher').describe('Kafka consumer group prefix (one group per lane plus one for retries)'),
  INBOUND_HEADROOM_FRACTION: env.number("share of each number's throughput left for inbound traffic (which counts too)", 0.05, 0, 0.5),
  THROTTLE_DECREASE_FACTOR: env.number(
    "multiplier applied to a number's rate after a throttle error (130429, 4, 80007, 131048); compounds on repeated throttles more than 1 s apart",
    0.9,
    0.1,
    1,
  ),
  THROTTLE_COOLDOWN_MS: env.int('how long a throttled number stays slowed down before recovering', 10_000, 0),
  THROUGHPUT_WINDOW_MS: env.int(
    "Meta's throughput window: the send guard allows at most the paced rate (and less than the limit) in any sliding window of this length",
    THROUGHPUT_WINDOW_MS,
    100,
    60_000,
  ),
  PAIR_LIMIT_INTERVAL_MS: env.int('minimum spacing of messages to one recipient from one number (pair rate limit, 131056)', 6_000, 0),
  PAIR_LIMIT_BURST: env.int('messages to one recipient allowed per pair-limit interval', 1, 1, 100),
  RETRY_MAX_ATTEMPTS: env.int('send attempts before a transient failure is dead-lettered', 5, 1, 100),
  RETRY_BASE_MS: env.int('base of the exponential back-off (full jitter)', 2_000, 1),
  RETRY_MAX_DELAY_MS: env.int('cap of one back-off delay', 600_000, 1),
  HTTP_TIMEOUT_MS: env.int('Graph API request timeout (headers and body)', 10_000, 100),
  HTTP_CONNECT_TIMEOUT_MS: env.int('Graph API connect timeout', 3_000, 100),
  HTTP_POOL_CONNECTIONS: env.int(
    'keep-alive connections to the Graph API (one request each at a time: at least the sends in flight, rate × latency, or requests queue in the pool and reach Meta bunched)',
    512,
    1,
    4_096,
  ),
  MARKETING_HOLD_QUALITY: z
    .enum(['RED', 'YELLOW', 'never'])
    .default('RED')
    .describe(
      "a number rated this low (or lower) by Meta holds its marketing messages (deferred, not failed); utility and authentication still go; 'never' = no hold",
    ),
  OPT_OUT_POLICY: z
    .enum(['marketing_only', 'all'])
    .default('marketing_only')
    .describe('"marketing_only": an opt-out blocks marketing only (utility/authentication still go); "all": it blocks every category'),
  UNKNOWN_OUTCOME_POLICY: z
    .enum(['record_unknown', 'resend'])
    .default('record_unknown')
    .describe('a job claimed but never recorded (crash, timeout after sending): record as unknown and alert, or send again'),
  CAMPAIGN_OVERFLOW_POLICY: z
    .enum(['spread', 'refuse'])
    .default('spread')
    .describe('a campaign message to a new recipient beyond the messaging-limit budget: hold it until budget frees, or refuse it'),
  CONSUMER_CONCURRENCY: env.int(
    'jobs in their checks (Redis round trips) at once per process; different recipients run concurrently, one recipient in order',
    1_000,
    1,
    20_000,
  ),
  // 250 ms rather than a second: slots are reserved 100 ms ahead, and jobs that waited a second after their checks
  // cost ~14 % more dispatcher CPU per message end to end (a third of it in young-generation collections).
  SEND_ROOM_MS: env.int(
    "how much of each number's sends (at its paced rate, at least 50 jobs) may be in their checks or waiting for a slot at once; jobs beyond it wait holding nothing",
    250,
    50,
    10_000,
  ),
  CONSUMER_LOOKAHEAD_JOBS: env.int(
    "jobs each consumer (lane or retry) may have taken from Kafka and not finished: how far it reads past a slow number's backlog so that other numbers' jobs behind it are sent meanwhile (memory: about 2-3 KB a job)",
    50_000,
    1,
    1_000_000,
  ),
  CONSUMER_COMMIT_INTERVAL_MS: env.int('how often each consumer commits, per partition, the offset below which every job is done', 500, 50, 60_000),
  PARTITIONS_CONSUMED_CONCURRENTLY: env.int('partitions processed concurrently per consumer', 8, 1, 256),
  LEDGER_TTL_MS: env.int('how long the send ledger remembers a job (must exceed the longest redelivery/replay horizon)', 3 * 24 * 3_600_000, 60_000),
  LEDGER_BUCKET_BITS: env.int('log2 of the send ledger hash buckets per day: log2(messages a day / 64); 17 suits 10 M messages a day', 17, 0, 24),
  OUTCOME_LINGER_MS: env.int('how long outcome records wait to be batched into one produce', 5, 0, 1_000),
  STATE_REFRESH_MS: env.int('periodic re-read of account/campaign state (pub/sub makes changes immediate; this is the safety net)', 5_000, 100),
});
export type DispatcherConfig = Readonly<z.output<typeof dispatcherEnvSchema>>;

export function loadDispatcherConfig(source: Record<string, string | undefined> = process.env): DispatcherConfig {
  return loadConfig(dispatcherEnvSchema, source);
}
