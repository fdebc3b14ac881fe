import type { Logger } from 'pino';
import type { CatalogIndex } from '@wa/shared/catalog';
import type { TemplateRef } from '@wa/shared/contracts/common';
import type { DeadLetterReason } from '@wa/shared/contracts/dead-letter';
import { dispatchJobV1, type DispatchJobV1, type DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import { sentEventV1, type SendOutcome, type SentEventV1 } from '@wa/shared/contracts/sent-event';
import { deadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { buildDeadLetter } from '@wa/shared/dead-letter';
import { encodeJson } from '@wa/shared/decode';
import { messageShape, type MessageShape } from '@wa/shared/message-shape';
import { countryOfPhone, hashRecipient } from '@wa/shared/phone';
import { SERVICE_WINDOW_MS } from '@wa/shared/redis-keys';
import { RETRY_TIERS, topicName, topics } from '@wa/shared/topics';
import type { OutRecord } from './adapters/kafka-producer';
import { decideRetry, tierIndexForDelay } from './domain/backoff';
import { standingBlocks, standingHold } from '@wa/shared/account-standing';
import { evaluateCompliance } from './domain/compliance';
import { liveTemplate } from './domain/live-template';
import { holdsMarketing, type MarketingHoldQuality } from './domain/quality-gate';
import { decideOutcome, type SendResult } from './domain/outcome';
import { pickSender } from './domain/sender-pool';
import type { SendRoom } from './domain/send-room';
import type { DispatcherMetrics } from './metrics';
import type { AccountState, CampaignControl, Clock, CloudApi, LedgerEntry, MessagingLimits, RateLimiter, SendLedger } from './ports';

export interface HandleJobDeps {
  catalog: CatalogIndex;
  accessTokens: ReadonlyMap<string, string>;
  ledger: SendLedger;
  limiter: RateLimiter;
  /** Per-number admission into the send path (see domain/send-room.ts). */
  room: SendRoom;
  limits: MessagingLimits;
  account: AccountState;
  campaigns: CampaignControl;
  cloudApi: CloudApi;
  publish: (records: OutRecord[]) => Promise<void>;
  metrics: DispatcherMetrics;
  clock: Clock;
  logger: Logger;
  random: () => number;
  config: {
    topicPrefix: string;
    recipientHashSalt: string;
    optOutPolicy: 'marketing_only' | 'all';
    /** Quality rating at which marketing on a number is held (see domain/quality-gate). */
    marketingHoldQuality?: MarketingHoldQuality;
    unknownOutcomePolicy: 'record_unknown' | 'resend';
    campaignOverflowPolicy: 'spread' | 'refuse';
    retryMaxAttempts: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    pairIntervalMs: number;
    /** How long to wait for a live replica's claim to resolve before deciding. */
    claimWaitMs: number;
  };
}

export interface JobSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer;
}

/**
 * The process-wide permit bounding jobs in their checks (Redis round trips). The handler takes it
 * once its number's send room admits the job and gives it back when the job starts waiting for its
 * send slot: from there the room and the pacing bound what follows. The consumer releases it in any
 * case when the job ends; both calls are idempotent.
 */
export interface JobConcurrency {
  acquire(): Promise<void>;
  release(): void;
}

/** What a job holds on its way to the send: the concurrency permit and its place in the number's send room. */
interface JobPath {
  concurrency: JobConcurrency;
  leaveRoom: () => void;
}

interface Ctx {
  job: DispatchJobV1;
  src: JobSource;
  path: JobPath;
  phoneNumberId: string;
  wabaId: string | undefined;
  template?: string;
  /** Type and components of the message (analytics); the fallback template's once the gate picked it. */
  shape?: MessageShape;
  category: SentEventV1['category'];
}

const PAUSE_DEFER_MS = 60_000;

/**
 * One dispatch job from decode to durable outcome. Resolves when the outcome is recorded in the
 * ledger and every resulting record (audit event, retry, DLQ) is acknowledged by Kafka; only then
 * may the caller commit the source offset. Throws only when Redis or Kafka fail (the record is
 * then redelivered and the ledger makes that safe).
 */
export function createJobHandler(deps: HandleJobDeps) {
  const { config, metrics } = deps;
  const retryTopics = RETRY_TIERS.map((_, i) => topicName(topics.dispatchRetry[i]!.topic, config.topicPrefix));
  const sentTopic = topicName(topics.messagesSent, config.topicPrefix);
  const dlqTopic = topicName(topics.dispatchDlq, config.topicPrefix);

  /**
   * The audit event. A 'sent' event (the hot path) is built from the already-validated job and our own
   * values, so it skips the zod pass; every other outcome (rare; some carry free-text details) is
   * still checked against the contract here.
   */
  function event(ctx: Ctx, outcome: SendOutcome, extra: Partial<SentEventV1> = {}, eventId?: string): SentEventV1 {
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

  function dlqRecord(ctx: Ctx, reason: DeadLetterReason, detail: string, errorCode?: number): OutRecord {
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

  /** The sender label only for numbers of the catalogue: a job's own field would let callers mint label values. */
  function senderLabel(ctx: Ctx): string {
    return ctx.wabaId !== undefined ? ctx.phoneNumberId : 'unknown';
  }

  function countOutcome(ctx: Ctx, e: SentEventV1): void {
    metrics.sends.inc({ sender: senderLabel(ctx), outcome: e.outcome, error_class: e.errorClass ?? 'none' });
    // A send Meta answered with an error is Meta's refusal; a failure without an HTTP answer is ours (config, auth).
    const counted = e.outcome === 'failed' && e.httpStatus !== undefined ? 'meta_refused' : e.outcome;
    if (ctx.job.campaignId) deps.campaigns.count(ctx.job.campaignId, counted);
  }

  /** Terminal outcome after a send: ledger first, then the records (a redelivery re-announces from the ledger). */
  async function finish(ctx: Ctx, e: SentEventV1, extra: OutRecord[] = []): Promise<void> {
    const json = JSON.stringify(e);
    await deps.ledger.recordDone(ctx.job.jobId, ctx.job.attempt, e, json);
    await deps.publish([sentRecordOf(e, json), ...extra]);
    countOutcome(ctx, e);
  }

  /** Terminal outcome decided before any send (refusal, expiry, cancel): claim-and-record in one step. */
  async function refuse(ctx: Ctx, e: SentEventV1, extra: OutRecord[] = []): Promise<void> {
    const r = await deps.ledger.claimDone(ctx.job.jobId, ctx.job.attempt, e);
    if (!r.claimed) return onExisting(ctx, r.existing);
    await deps.publish([sentRecordOf(e, JSON.stringify(e)), ...extra]);
    countOutcome(ctx, e);
  }

  /** Holds a job for later without spending an attempt. */
  async function defer(ctx: Ctx, reason: string, delayMs: number, announce: boolean, heldFor?: DispatchJobV1['heldFor']): Promise<void> {
    metrics.deferred.inc({ reason });
    const records = [delayedRecord(ctx.job, delayMs, heldFor)];
    if (announce) {
      records.push(
        sentRecord(
          event(
            ctx,
            'deferred',
            { reason: `${reason}: retry in ${Math.round(delayMs / 1000)} s` },
            `${ctx.job.jobId}:${ctx.job.attempt}:deferred:${deps.clock.now()}`,
          ),
        ),
      );
    }
    await deps.publish(records);
  }

  async function scheduleRetry(
    ctx: Ctx,
    errorClass: string,
    detail: string,
    code: number | undefined,
    minDelayMs: number,
    extra: Partial<SentEventV1>,
  ): Promise<void> {
    const decision = decideRetry(
      ctx.job.attempt,
      { baseMs: config.retryBaseMs, maxDelayMs: config.retryMaxDelayMs, maxAttempts: config.retryMaxAttempts },
      deps.random,
      minDelayMs,
    );
    if (!decision.retry) {
      const e = event(ctx, 'failed', { ...extra, reason: `retries exhausted after ${ctx.job.attempt + 1} attempts: ${detail}`.slice(0, 200), errorClass });
      return finish(ctx, e, [dlqRecord(ctx, 'retries_exhausted', detail, code)]);
    }
    await deps.ledger.recordRetry(ctx.job.jobId, ctx.job.attempt);
    const next: DispatchJobV1 = { ...ctx.job, attempt: decision.nextAttempt, lastError: { code: String(code ?? errorClass), detail: detail.slice(0, 2000) } };
    const e = event(ctx, 'retry_scheduled', { ...extra, reason: detail.slice(0, 200), errorClass });
    await deps.publish([delayedRecord(next, decision.delayMs), sentRecord(e)]);
    metrics.retries.inc({ sender: senderLabel(ctx), error_class: errorClass });
    countOutcome(ctx, e);
  }

  /** The ledger already knows this job: a redelivery after a crash or rebalance, or a duplicate record. */
  async function onExisting(ctx: Ctx, entry: LedgerEntry): Promise<void> {
    metrics.ledgerConflicts.inc({ state: entry.st });
    if (entry.st === 'done') {
      // Same eventId as the first announcement: downstream dedupes on it.
      await deps.publish([sentRecord(entry.event)]);
      return;
    }
    if (entry.st === 'retry') {
      if (entry.a < ctx.job.attempt) return run(ctx.job, ctx.src, ctx.path); // raced with a release; try again
      if (entry.a > ctx.job.attempt) return; // a later attempt exists
      // Crashed between recording the retry and producing it: produce it (a duplicate retry record is harmless).
      return scheduleRetry(ctx, 'transient', ctx.job.lastError?.detail ?? 'redelivered retry', undefined, 0, {});
    }
    // Claimed: someone was sending it. Wait while that process is alive, then decide.
    const deadline = deps.clock.now() + config.claimWaitMs;
    let current: LedgerEntry | undefined = entry;
    while (current?.st === 'claimed' && (await deps.ledger.ownerAlive(current.owner)) && deps.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      current = await deps.ledger.peek(ctx.job.jobId);
    }
    if (current === undefined) return run(ctx.job, ctx.src, ctx.path);
    if (current.st !== 'claimed') return onExisting(ctx, current);
    if (config.unknownOutcomePolicy === 'resend') {
      await deps.ledger.recordRetry(ctx.job.jobId, current.a - 1);
      return run({ ...ctx.job, attempt: current.a }, ctx.src, ctx.path);
    }
    metrics.unknownOutcomes.inc();
    deps.logger.warn({ jobId: ctx.job.jobId, claimOwner: current.owner }, 'send outcome unknown: claimed by a process that died before recording it');
    const e = event(ctx, 'unknown', { reason: 'claimed by a process that died before recording the outcome; not resent' }, `${ctx.job.jobId}:${current.a}`);
    await deps.ledger.recordDone(ctx.job.jobId, current.a, e);
    await deps.publish([sentRecord(e)]);
    countOutcome(ctx, e);
  }

  const shapeOf = (m: DispatchMessage, wabaId: string | undefined): MessageShape =>
    messageShape(m, m.type === 'template' && wabaId ? deps.catalog.template(wabaId, m.template.name, m.template.language) : undefined);

  /** Sender: a number, or a sticky pick from a pool. */
  function senderOf(job: DispatchJobV1): string | undefined {
    if ('phoneNumberId' in job.sender) return job.sender.phoneNumberId;
    const pool = deps.catalog.pool(job.sender.pool);
    if (!pool) return undefined;
    const usable = (wabaId: string) => !deps.account.accountPaused(wabaId) && !standingBlocks(deps.account.standing?.(wabaId), deps.clock.now()).all;
    return pickSender(pool, job.to, (id) => usable(deps.catalog.phoneNumber(id)?.wabaId ?? '')) ?? pool[0];
  }

  /** Waits for a place in the sender's send room, then for a concurrency permit, then runs the job. */
  async function handle(job: DispatchJobV1, src: JobSource, concurrency: JobConcurrency): Promise<void> {
    const phoneNumberId = senderOf(job);
    const leaveRoom = phoneNumberId && deps.catalog.phoneNumber(phoneNumberId) ? await deps.room.enter(phoneNumberId, job.lane) : () => undefined;
    try {
      await concurrency.acquire();
      await run(job, src, { concurrency, leaveRoom });
    } finally {
      leaveRoom();
    }
  }

  async function run(job: DispatchJobV1, src: JobSource, path: JobPath): Promise<void> {
    const nowMs = deps.clock.now();
    const initialTemplate = job.message.type === 'template' ? job.message.template.name : undefined;
    const phoneNumberId = senderOf(job);
    const number = phoneNumberId ? deps.catalog.phoneNumber(phoneNumberId) : undefined;
    const ctx: Ctx = {
      job,
      src,
      path,
      phoneNumberId: phoneNumberId ?? 'unknown',
      wabaId: number?.wabaId,
      category: job.category,
      ...(initialTemplate ? { template: initialTemplate } : {}),
      shape: shapeOf(job.message, number?.wabaId),
    };

    // The ledger peek and the recipient's state go out together (one Redis pipeline, one round trip);
    // the recipient read is wasted only for jobs that turn out to be redelivered, refused or deferred.
    const [existing, person] = await Promise.all([deps.ledger.peek(job.jobId), number ? deps.account.recipient(number.id, number.wabaId, job.to) : undefined]);
    if (existing && !(existing.st === 'retry' && existing.a < job.attempt)) return onExisting(ctx, existing);

    if (!number) {
      const detail = `sender ${JSON.stringify(job.sender)} is not in the catalogue`;
      return refuse(ctx, event(ctx, 'failed', { reason: detail.slice(0, 200), errorClass: 'config' }), [dlqRecord(ctx, 'unknown_sender', detail)]);
    }
    const business = deps.catalog.business(number.wabaId)!;
    const token = deps.accessTokens.get(number.wabaId);
    if (!token) {
      const detail = `no access token for business account ${number.wabaId} in WA_ACCESS_TOKENS`;
      return refuse(ctx, event(ctx, 'failed', { reason: detail, errorClass: 'config' }), [dlqRecord(ctx, 'auth_error', detail)]);
    }

    if (job.campaignId) {
      const state = await deps.campaigns.state(job.campaignId);
      if (state === 'cancelled') return refuse(ctx, event(ctx, 'cancelled', { reason: 'campaign cancelled' }));
      // Held in the retry topic, and released there as soon as the campaign is resumed or cancelled.
      if (state === 'paused') return defer(ctx, 'campaign_paused', PAUSE_DEFER_MS, false, 'campaign');
    }
    if (deps.account.accountPaused(number.wabaId)) return defer(ctx, 'account_paused', PAUSE_DEFER_MS, false);
    if (job.notBefore && Date.parse(job.notBefore) > nowMs) return defer(ctx, 'not_before', Date.parse(job.notBefore) - nowMs, false);

    const verdict = evaluateCompliance(job, {
      nowMs,
      optedOut: person!.optedOut,
      lastInboundMs: person!.lastInboundMs,
      serviceWindowMs: SERVICE_WINDOW_MS,
      optOutPolicy: config.optOutPolicy,
      // Status and category as Meta's webhooks have them now (see domain/live-template).
      template: (ref: TemplateRef) =>
        liveTemplate(
          deps.catalog.template(number.wabaId, ref.name, ref.language),
          deps.account.templateFacts?.(number.wabaId, ref.name, ref.language) ?? { status: deps.account.templateStatus(number.wabaId, ref.name, ref.language) },
          nowMs,
        ),
    });
    if (verdict.action === 'expire')
      return refuse(ctx, event(ctx, 'expired', { reason: verdict.detail.slice(0, 200) }), [dlqRecord(ctx, 'expired', verdict.detail)]);
    if (verdict.action === 'reject') {
      return refuse(ctx, event(ctx, 'rejected', { reason: `${verdict.reason}: ${verdict.detail}`.slice(0, 200) }), [
        dlqRecord(ctx, verdict.reason, verdict.detail),
      ]);
    }
    ctx.category = verdict.category;
    if (verdict.message.type === 'template') ctx.template = verdict.message.template.name;
    if (verdict.usedFallback) ctx.shape = shapeOf(verdict.message, number.wabaId);
    if (holdsMarketing(verdict.category, deps.account.quality(number.id), config.marketingHoldQuality ?? 'never')) {
      return defer(ctx, 'low_quality', PAUSE_DEFER_MS, true);
    }
    // Banned, or this kind of messaging restricted (account_update): held until Meta lifts it.
    const standing = standingHold(deps.account.standing?.(number.wabaId), nowMs, verdict.businessInitiated);
    if (standing !== undefined) return defer(ctx, standing, PAUSE_DEFER_MS, false);

    // Messaging limit: only business-initiated messages (outside a service window) count.
    let newRecipient = false;
    if (verdict.businessInitiated) {
      const limit = deps.account.messagingLimit(number.wabaId);
      const admitted = await deps.limits.admit(business.portfolioId, job.to, limit);
      if (!admitted.allowed) {
        const detail = `portfolio ${business.portfolioId} messaged ${admitted.used} of ${admitted.limit} unique recipients in the rolling 24 h`;
        if (job.campaignId && config.campaignOverflowPolicy === 'refuse') {
          return refuse(ctx, event(ctx, 'rejected', { reason: `messaging_limit_refused: ${detail}`.slice(0, 200) }), [
            dlqRecord(ctx, 'messaging_limit_refused', detail),
          ]);
        }
        return defer(ctx, 'messaging_limit', admitted.retryAfterMs, true);
      }
      newRecipient = admitted.newRecipient;
    }

    const pair = await deps.limits.pairAllowed(number.id, job.to);
    if (!pair.allowed) return defer(ctx, 'pair_limit', pair.retryAfterMs, false);

    // The send room bounds the jobs waiting for a slot (about a second of this number's sends), so
    // the wait needs no permit: a slow number's queue never holds permits a fast number needs.
    path.concurrency.release();
    const waitedMs = await deps.limiter.acquire(number.id, job.lane);
    metrics.rateLimitWait.observe({ sender: number.id, lane: job.lane }, waitedMs / 1000);

    // Paused or cancelled while this job waited for its slot (a second of the number's sends wait so): do not send.
    if (job.campaignId) {
      const state = await deps.campaigns.state(job.campaignId);
      if (state !== 'active' && newRecipient) await deps.limits.forget(business.portfolioId, job.to);
      if (state === 'cancelled') return refuse(ctx, event(ctx, 'cancelled', { reason: 'campaign cancelled' }));
      if (state === 'paused') return defer(ctx, 'campaign_paused', PAUSE_DEFER_MS, false, 'campaign');
    }

    // Admission and ledger claim in one step, right before the write (see SendScheduler.admit).
    const admission = await deps.limiter.admit(number.id, deps.ledger.claimRequest(job.jobId, job.attempt));
    if (!admission.admitted) return onExisting(ctx, admission.existing);
    path.leaveRoom();
    const permit = admission.permit;
    const sentAtMs = deps.clock.now();
    const started = performance.now();
    let result: SendResult;
    try {
      result = await deps.cloudApi.send({
        phoneNumberId: number.id,
        accessToken: token,
        to: job.to,
        message: verdict.message,
        callbackData: job.jobId,
        onWritten: permit.written,
      });
    } finally {
      permit.answered(); // also gives back the Graph API connection the admission took
    }
    const latencyMs = performance.now() - started;
    metrics.sendDuration.observe({ sender: number.id }, latencyMs / 1000);

    const decision = decideOutcome(result, { unknownOutcomePolicy: config.unknownOutcomePolicy, pairIntervalMs: config.pairIntervalMs });
    const httpExtra: Partial<SentEventV1> = {
      latencyMs: Math.round(latencyMs * 100) / 100,
      ...(result.kind === 'accepted' || result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
      ...(result.kind === 'error' && result.code !== undefined ? { errorCode: result.code } : {}),
    };
    if (result.kind === 'error') metrics.errors.inc({ sender: number.id, code: String(result.code ?? result.httpStatus ?? 'network') });
    if (result.kind === 'error' && !result.mayHaveSent && newRecipient) await deps.limits.forget(business.portfolioId, job.to);

    switch (decision.action) {
      case 'sent':
        return finish(
          ctx,
          event(ctx, 'sent', {
            ...httpExtra,
            wamid: decision.wamid,
            ...(decision.messageStatus !== undefined && decision.messageStatus !== 'accepted' ? { messageStatus: decision.messageStatus } : {}),
          }),
        );
      case 'retry':
        if (decision.slowSender) {
          deps.limiter.onThrottle(number.id, sentAtMs);
          metrics.throttles.inc({ sender: number.id, code: String(decision.code ?? 'http') });
        }
        return scheduleRetry(ctx, decision.errorClass, decision.detail, decision.code, decision.minDelayMs, httpExtra);
      case 'dead-letter': {
        const e = event(ctx, 'failed', { ...httpExtra, reason: decision.detail.slice(0, 200), errorClass: decision.errorClass });
        return finish(ctx, e, [dlqRecord(ctx, decision.reason, decision.detail, decision.code)]);
      }
      case 'pause-account': {
        deps.logger.error({ wabaId: number.wabaId, code: decision.code }, 'authentication error: pausing the business account');
        await deps.account.pauseAccount(number.wabaId, decision.detail);
        metrics.accountPaused.set({ waba: number.wabaId }, 1);
        await deps.ledger.release(job.jobId, job.attempt);
        return defer(ctx, 'account_paused', PAUSE_DEFER_MS, true);
      }
      case 'unknown': {
        metrics.unknownOutcomes.inc();
        return finish(ctx, event(ctx, 'unknown', { ...httpExtra, reason: `no answer from the Graph API; not resent: ${decision.detail}`.slice(0, 200) }));
      }
    }
  }

  return { handle };
}
export type JobHandler = ReturnType<typeof createJobHandler>;
