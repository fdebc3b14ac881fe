import type { DeadLetterReason } from '@wa/shared/contracts/dead-letter';
import { deadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { dispatchJobV1, type DispatchJobV1, type DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import { sentEventV1, type SendOutcome, type SentEventV1 } from '@wa/shared/contracts/sent-event';
import { buildDeadLetter } from '@wa/shared/dead-letter';
import { encodeJson } from '@wa/shared/decode';
import { messageShape, type MessageShape } from '@wa/shared/message-shape';
import { countryOfPhone, hashRecipient } from '@wa/shared/phone';
import { RETRY_TIERS, topicName, topics } from '@wa/shared/topics';
import type { OutRecord } from '../adapters/kafka-producer';
import { tierIndexForDelay } from '../domain/backoff';
import type { HandleJobDeps, JobContext } from './types';

/** The records a job produces (audit event, dead letter, delayed job) and the counters of its outcome. */
export function createJobRecords(deps: HandleJobDeps) {
  const { config, metrics } = deps;
  const retryTopics = RETRY_TIERS.map((_, i) => topicName(topics.dispatchRetry[i]!.topic, config.topicPrefix));
  const sentTopic = topicName(topics.messagesSent, config.topicPrefix);
  const dlqTopic = topicName(topics.dispatchDlq, config.topicPrefix);

  /**
   * The audit event. A 'sent' event (the hot path) is built from the already-validated job and our own
   * values, so it skips the zod pass; every other outcome (rare; some carry free-text details) is
   * still checked against the contract here.
   */
  function event(ctx: JobContext, outcome: SendOutcome, extra: Partial<SentEventV1> = {}, eventId?: string): SentEventV1 {
    const { job } = ctx;
    const e: SentEventV1 = {
      v: 1,
      eventId: eventId ?? `${job.jobId}:${job.attempt}`,
      jobId: job.jobId,
      requestKey: job.requestKey,
      ...(job.campaignId ? { campaignId: job.campaignId } : {}),
      senderPhoneNumberId: ctx.phoneNumberId,
      ...(ctx.wabaId ? { wabaId: ctx.wabaId } : {}),
      recipientHash: hashRecipient(job.to, config.recipientHashSalt),
      recipientCountry: countryOfPhone(job.to),
      ...(ctx.template ? { template: ctx.template } : {}),
      ...ctx.shape,
      category: ctx.category,
      lane: job.lane,
      attempt: job.attempt,
      outcome,
      requestedAt: job.requestedAt,
      occurredAt: new Date(deps.clock.now()).toISOString(),
      ...(job.metadata ? { metadata: job.metadata } : {}),
      ...extra,
    };
    return outcome === 'sent' ? e : sentEventV1.parse(e);
  }

  /** Events from event() are contract-checked (or built from checked parts): encode them once, without a second zod pass. */
  const sentRecordOf = (e: SentEventV1, json: string): OutRecord => ({ topic: sentTopic, key: e.jobId, value: Buffer.from(json) });
  /** Events read back from the ledger are checked again before they are re-announced. */
  const sentRecord = (e: SentEventV1): OutRecord => ({ topic: sentTopic, key: e.jobId, value: encodeJson(sentEventV1, e) });

  function dlqRecord(ctx: JobContext, reason: DeadLetterReason, detail: string, errorCode?: number): OutRecord {
    const d = buildDeadLetter({
      reason,
      detail,
      service: 'dispatcher',
      source: { kind: 'kafka', topic: ctx.src.topic, partition: ctx.src.partition, offset: ctx.src.offset },
      key: ctx.src.key,
      value: ctx.src.value,
      occurredAtMs: deps.clock.now(),
      jobId: ctx.job.jobId,
      requestKey: ctx.job.requestKey,
      ...(ctx.job.campaignId ? { campaignId: ctx.job.campaignId } : {}),
      ...(errorCode !== undefined ? { errorCode } : {}),
    });
    return { topic: dlqTopic, key: ctx.job.jobId, value: encodeJson(deadLetterV1, d) };
  }

  function delayedRecord(job: DispatchJobV1, delayMs: number, heldFor?: DispatchJobV1['heldFor']): OutRecord {
    const tier = tierIndexForDelay(delayMs, RETRY_TIERS);
    const { heldFor: _previous, ...rest } = job;
    const next: DispatchJobV1 = { ...rest, retryAt: deps.clock.now() + Math.max(0, Math.round(delayMs)), ...(heldFor ? { heldFor } : {}) };
    return { topic: retryTopics[tier]!, key: job.to, value: encodeJson(dispatchJobV1, next) };
  }

  /** Type and components of a message for its event (analytics), with the template's catalogue entry. */
  const shapeOf = (m: DispatchMessage, wabaId: string | undefined): MessageShape =>
    messageShape(m, m.type === 'template' && wabaId ? deps.catalog.template(wabaId, m.template.name, m.template.language) : undefined);

  /** The sender label only for numbers of the catalogue: a job's own field would let callers mint label values. */
  function senderLabel(ctx: JobContext): string {
    return ctx.wabaId !== undefined ? ctx.phoneNumberId : 'unknown';
  }

  function countOutcome(ctx: JobContext, e: SentEventV1): void {
    metrics.sends.inc({ sender: senderLabel(ctx), outcome: e.outcome, error_class: e.errorClass ?? 'none' });
    // A send Meta answered with an error is Meta's refusal; a failure without an HTTP answer is ours (config, auth).
    const counted = e.outcome === 'failed' && e.httpStatus !== undefined ? 'meta_refused' : e.outcome;
    if (ctx.job.campaignId) deps.campaigns.count(ctx.job.campaignId, counted);
  }

  return { event, sentRecordOf, sentRecord, dlqRecord, delayedRecord, shapeOf, senderLabel, countOutcome };
}
export type JobRecords = ReturnType<typeof createJobRecords>;
