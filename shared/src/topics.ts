import type { z } from 'zod';
import type { Lane } from './contracts/common';
import { deadLetterV1 } from './contracts/dead-letter';
import { dispatchJobV1 } from './contracts/dispatch-job';
import { accountEventV1, inboundEventV1, statusEventV1 } from './contracts/events';
import { notificationRequestV1 } from './contracts/notification-request';
import { sentEventV1 } from './contracts/sent-event';
import { webhookRawV1 } from './contracts/webhook-raw';

/**
 * A topic is defined once: name, value schema, partition key. Producers and consumers import the
 * same object, so keys and shapes cannot drift between services.
 */
export interface TopicDef<S extends z.ZodType> {
  readonly name: string;
  readonly schema: S;
  /** The record key; `null` lets the producer spread records over partitions. */
  readonly key: (value: z.output<S>) => string | null;
  /** Topic-level settings applied at creation (e.g. a larger max.message.bytes). */
  readonly config?: Readonly<Record<string, string>>;
}

function defineTopic<S extends z.ZodType>(name: string, schema: S, key: (value: z.output<S>) => string | null, config?: Record<string, string>): TopicDef<S> {
  return Object.freeze({ name, schema, key, ...(config ? { config: Object.freeze(config) } : {}) });
}

const byRecipient = (job: { to: string }) => job.to;

/** Dispatch retry tiers: a retry waits in the tier whose delay is the largest not above its backoff. */
export const RETRY_TIERS = Object.freeze([
  { delayMs: 5_000, suffix: '5s' },
  { delayMs: 60_000, suffix: '1m' },
  { delayMs: 600_000, suffix: '10m' },
] as const);

export const topics = Object.freeze({
  notificationsRequested: defineTopic('wa.notifications.requested', notificationRequestV1, (r) => r.idempotencyKey),
  notificationsDlq: defineTopic('wa.notifications.dlq', deadLetterV1, (d) => d.requestKey ?? null),
  dispatchJobs: Object.freeze({
    auth: defineTopic('wa.dispatch.jobs.auth', dispatchJobV1, byRecipient),
    utility: defineTopic('wa.dispatch.jobs.utility', dispatchJobV1, byRecipient),
    marketing: defineTopic('wa.dispatch.jobs.marketing', dispatchJobV1, byRecipient),
  } satisfies Record<Lane, TopicDef<typeof dispatchJobV1>>),
  dispatchRetry: Object.freeze(RETRY_TIERS.map((tier) => ({ ...tier, topic: defineTopic(`wa.dispatch.retry.${tier.suffix}`, dispatchJobV1, byRecipient) }))),
  dispatchDlq: defineTopic('wa.dispatch.dlq', deadLetterV1, (d) => d.jobId ?? null),
  messagesSent: defineTopic('wa.messages.sent', sentEventV1, (e) => e.jobId),
  // Values are binary (encodeRawRecord; format-1 JSON records, body in base64, are still read): room for a 1 MiB body either way.
  webhooksRaw: defineTopic('wa.webhooks.raw', webhookRawV1, (w) => w.deliveryId, { 'max.message.bytes': String(2 * 1024 * 1024) }),
  eventsStatus: defineTopic('wa.events.status', statusEventV1, (e) => e.wamid),
  eventsInbound: defineTopic('wa.events.inbound', inboundEventV1, (e) => e.from),
  eventsAccount: defineTopic('wa.events.account', accountEventV1, (e) => e.wabaId),
});

/** Every topic of the system, for topic creation and documentation. */
export const ALL_TOPICS: readonly TopicDef<z.ZodType>[] = Object.freeze([
  topics.notificationsRequested,
  topics.notificationsDlq,
  topics.dispatchJobs.auth,
  topics.dispatchJobs.utility,
  topics.dispatchJobs.marketing,
  ...topics.dispatchRetry.map((r) => r.topic),
  topics.dispatchDlq,
  topics.messagesSent,
  topics.webhooksRaw,
  topics.eventsStatus,
  topics.eventsInbound,
  topics.eventsAccount,
]) as readonly TopicDef<z.ZodType>[];

/** Topic names can be prefixed (e.g. per test run or per environment) without changing the contract. */
export function topicName(def: { name: string }, prefix = ''): string {
  return prefix + def.name;
}
