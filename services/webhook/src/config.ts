import { z } from 'zod';
import { ConfigError, commonEnv, env, loadConfig } from '@wa/shared/config';
import { topics } from '@wa/shared/topics';
import { bodyLimitProblem } from './domain/raw-record';

/** max.message.bytes the raw topic is created with (scripts/create-topics.ts); the live value is checked at start-up too. */
export const RAW_TOPIC_MAX_MESSAGE_BYTES = Number(topics.webhooksRaw.config?.['max.message.bytes'] ?? 1_048_588);

/** One configured app secret; several are configured during a rotation and any of them verifies. */
export interface AppSecret {
  id: string;
  secret: string;
}

const appSecrets = z
  .string()
  .min(1)
  .transform((raw, ctx): AppSecret[] => {
    const secrets: AppSecret[] = [];
    for (const part of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = part.indexOf('=');
      const id = eq > 0 ? part.slice(0, eq).trim() : '';
      const secret = eq > 0 ? part.slice(eq + 1).trim() : '';
      if (id === '' || secret === '') {
        ctx.addIssue({ code: 'custom', message: 'each entry must look like "<id>=<secret>"' });
        return z.NEVER;
      }
      if (secrets.some((s) => s.id === id)) {
        ctx.addIssue({ code: 'custom', message: `secret id "${id}" is listed twice` });
        return z.NEVER;
      }
      secrets.push({ id, secret });
    }
    if (secrets.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'at least one "<id>=<secret>" entry is required' });
      return z.NEVER;
    }
    return secrets;
  })
  .describe('app secrets as "id=secret,id2=secret2"; during a rotation any of them verifies and the raw record names which');

const keywordList = (description: string, def: string) =>
  z
    .string()
    .default(def)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .describe(description);

export const webhookEnvSchema = z.object({
  ...commonEnv,
  HTTP_PORT: env.int('port of the webhook HTTP server', 8083, 0, 65_535),
  HTTP_HOST: z.string().default('0.0.0.0').describe('interface the HTTP server binds to'),
  WEBHOOK_APP_SECRETS: appSecrets,
  WEBHOOK_VERIFY_TOKEN: env.string('token Meta echoes in the GET /webhook verification handshake'),
  WEBHOOK_MAX_BODY_BYTES: env.int('largest accepted webhook body; larger → 413', 1_048_576, 1_024, 16 * 1_048_576),
  WEBHOOK_PRODUCE_TIMEOUT_MS: env.int('how long a request waits for Kafka to confirm its raw record before answering 503', 2_000, 50, 60_000),
  WEBHOOK_PRODUCE_MAX_BATCH: env.int('most raw records grouped into one producer.send', 500, 1, 10_000),
  WEBHOOK_PRODUCE_MAX_INFLIGHT: env.int('concurrent producer.send calls of the batching producer (1 = pure group commit: fewest broker requests)', 1, 1, 5),
  WEBHOOK_PRODUCE_MAX_QUEUED: env.int('raw records allowed to wait for a send slot; beyond it POSTs get 503 at once', 20_000, 1),
  WEBHOOK_PRODUCE_LINGER_MS: env.int(
    "longest a raw record waits for others to share its produce call (Kafka's linger.ms; 0 = send as soon as a slot is free): fewer, larger sends cost the receiver and the broker less CPU per request",
    2,
    0,
    100,
  ),
  WEBHOOK_KAFKA_CONNECT_RETRY_MS: env.int('delay between attempts to (re)connect the producer/consumer while Kafka is unreachable', 1_000, 50, 60_000),
  KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none').describe('compression of produced batches'),
  WEBHOOK_RECEIVER_ENABLED: env.bool('serve GET/POST /webhook in this process; false runs a normaliser-only replica (ops routes only)', true),
  NORMALISER_ENABLED: env.bool(
    'run the normaliser consumer (wa.webhooks.raw → wa.events.*) in this process; production runs it apart from the receiver so batch work and its GC never delay acks',
    true,
  ),
  INBOUND_THROUGHPUT_WEIGHT: env.int(
    "send slots each fresh inbound message holds in its number's throughput window, which the dispatchers' send guard shares (Meta counts inbound messages too): 1 for itself, more to hold room for those whose webhooks are still on their way; 0 = not put there (the inbound rate is counted regardless)",
    1,
    0,
    5,
  ),
  NORMALISER_GROUP_ID: z.string().min(1).default('wa-webhook-normaliser').describe('consumer group of the normaliser'),
  NORMALISER_FETCH_MIN_BYTES: env.int(
    'the broker holds a normaliser fetch until this many bytes are available (or NORMALISER_FETCH_MAX_WAIT_MS passed): fewer, larger batches, so fewer Redis/Kafka round trips per record',
    262_144,
    1,
    4 * 1_048_576,
  ),
  NORMALISER_FETCH_MAX_WAIT_MS: env.int(
    'longest the broker holds a normaliser fetch waiting for NORMALISER_FETCH_MIN_BYTES; bounds the extra normalisation delay when traffic is low',
    250,
    10,
    5_000,
  ),
  NORMALISER_DEDUPE_TTL_S: env.int(
    'how long a normalised event id is remembered to drop Meta redeliveries (Meta retries for up to 7 days after the first attempt; 8 days covers the last retry)',
    8 * 24 * 3_600,
    60,
  ),
  NORMALISER_DEDUPE_BUCKET_BITS: env.int('log2 of the dedupe hash buckets per day: log2(status events a day / 64); 19 suits 10 M messages a day', 19, 0, 24),
  OPT_OUT_KEYWORDS: keywordList(
    'inbound messages that opt the person out (whole message, case/accent-insensitive)',
    'STOP,UNSUBSCRIBE,CANCEL,ARRET,BAJA,PARAR,STOPP',
  ),
  OPT_IN_KEYWORDS: keywordList('inbound messages that opt the person back in', 'START,SUBSCRIBE'),
  MARK_INBOUND_READ: env.bool(
    'the normaliser marks every new inbound message as read at Meta (blue ticks), in the background, paced per number; needs WA_ACCESS_TOKENS',
    false,
  ),
  WA_ACCESS_TOKENS: env.optionalString('Graph API access tokens by business account, "wabaId=token,…" (only with MARK_INBOUND_READ)'),
  GRAPH_API_BASE_URL: env.url('Graph API base URL (the simulator locally, https://graph.facebook.com in production)', 'http://127.0.0.1:8090'),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v24.0')
    .describe('Graph API version of the mark-as-read calls'),
  MARK_READ_MPS: env.int('most mark-as-read calls per second per business number (they share the Graph API with sends)', 10, 1, 1_000),
  MARK_READ_MAX_QUEUED: env.int('read marks waiting to be sent; beyond it new ones are dropped and counted', 10_000, 1, 1_000_000),
});

export type WebhookConfig = Readonly<z.output<typeof webhookEnvSchema>>;

export function loadWebhookConfig(source: Record<string, string | undefined> = process.env): WebhookConfig {
  const config = loadConfig(webhookEnvSchema, source);
  if (!config.WEBHOOK_RECEIVER_ENABLED && !config.NORMALISER_ENABLED) {
    throw new ConfigError(['WEBHOOK_RECEIVER_ENABLED and NORMALISER_ENABLED: both are false, so this process would do nothing (got "false" for both)']);
  }
  if (config.MARK_INBOUND_READ && (!config.NORMALISER_ENABLED || config.WA_ACCESS_TOKENS === undefined)) {
    throw new ConfigError(['MARK_INBOUND_READ: needs NORMALISER_ENABLED=true and WA_ACCESS_TOKENS (the normaliser marks messages read with them)']);
  }
  const tooLarge = bodyLimitProblem(config.WEBHOOK_MAX_BODY_BYTES, RAW_TOPIC_MAX_MESSAGE_BYTES, topics.webhooksRaw.name);
  if (tooLarge) throw new ConfigError([tooLarge]);
  return config;
}
