import { standingBlocks } from '@wa/shared/account-standing';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { decideOutcome, type SendResult } from './domain/outcome';
import { pickSender } from './domain/sender-pool';
import { createSendGates, type SendPlan } from './job/gates';
import { createJobOutcomes } from './job/outcomes';
import { createJobRecords } from './job/records';
import { PAUSE_DEFER_MS, type HandleJobDeps, type JobConcurrency, type JobContext, type JobPath, type JobSource } from './job/types';

export type { HandleJobDeps, JobConcurrency, JobSource } from './job/types';

/**
 * One dispatch job from decode to durable outcome. Resolves when the outcome is recorded in the
 * ledger and every resulting record (audit event, retry, DLQ) is acknowledged by Kafka; only then
 * may the caller commit the source offset. Throws only when Redis or Kafka fail (the record is
 * then redelivered and the ledger makes that safe).
 *
 * The path: ledger peek, the checks (job/gates.ts), the number's send slot, admission with the ledger
 * claim, the Graph API call, and the answer's outcome (job/outcomes.ts).
 */
export function createJobHandler(deps: HandleJobDeps) {
  const { config, metrics } = deps;
  const records = createJobRecords(deps);
  const outcomes = createJobOutcomes(deps, records, run);
  const check = createSendGates(deps, records, outcomes);
  const { event, dlqRecord } = records;
  const { finish, refuse, defer, scheduleRetry, onExisting } = outcomes;

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
    const ctx: JobContext = {
      job,
      src,
      path,
      phoneNumberId: phoneNumberId ?? 'unknown',
      wabaId: number?.wabaId,
      category: job.category,
      ...(initialTemplate ? { template: initialTemplate } : {}),
      shape: records.shapeOf(job.message, number?.wabaId),
    };

    // The ledger peek and the recipient's state go out together (one Redis pipeline, one round trip);
    // the recipient read is wasted only for jobs that turn out to be redelivered, refused or deferred.
    const [existing, person] = await Promise.all([deps.ledger.peek(job.jobId), number ? deps.account.recipient(number.id, number.wabaId, job.to) : undefined]);
    if (existing && !(existing.st === 'retry' && existing.a < job.attempt)) return onExisting(ctx, existing);

    const plan = await check(ctx, number, person, nowMs);
    if (plan) await send(ctx, plan, nowMs);
  }

  /** From the checks to the outcome: the send slot, the admission with the ledger claim, the call and its answer. */
  async function send(ctx: JobContext, plan: SendPlan, peekedAtMs: number): Promise<void> {
    const { job, path } = ctx;
    const { number, business, newRecipient } = plan;
    // The send room bounds the jobs waiting for a slot (SEND_ROOM_MS of this number's sends), so
    // the wait needs no permit: a slow number's queue never holds permits a fast number needs.
    path.concurrency.release();
    const waitedMs = await deps.limiter.acquire(number.id, job.lane);
    metrics.rateLimitWait.observe({ sender: number.id, lane: job.lane }, waitedMs / 1000);

    // Paused or cancelled while this job waited for its slot (SEND_ROOM_MS of the number's sends wait so): do not send.
    if (job.campaignId) {
      const state = await deps.campaigns.state(job.campaignId);
      if (state !== 'active' && newRecipient) await deps.limits.forget(business.portfolioId, job.to);
      if (state === 'cancelled') return refuse(ctx, event(ctx, 'cancelled', { reason: 'campaign cancelled' }));
      if (state === 'paused') return defer(ctx, 'campaign_paused', PAUSE_DEFER_MS, false, 'campaign');
    }
    // The guard's claim checks only the ledger's recent keys: after a long wait, look at the whole ledger again.
    if (deps.clock.now() - peekedAtMs > deps.ledger.recentMs / 2) {
      const again = await deps.ledger.peek(job.jobId);
      if (again && !(again.st === 'retry' && again.a < job.attempt)) return onExisting(ctx, again);
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
        accessToken: plan.token,
        to: job.to,
        message: plan.message,
        callbackData: job.jobId,
        onWritten: permit.written,
      });
    } finally {
      permit.answered(); // also gives back the Graph API connection the admission took
    }
    const latencyMs = performance.now() - started;
    metrics.sendDuration.observe({ sender: number.id }, latencyMs / 1000);
    return answered(ctx, plan, result, latencyMs, sentAtMs);
  }

  /** The Graph API's answer to an admitted send: sent, retried, dead-lettered, account paused, or unknown. */
  async function answered(ctx: JobContext, plan: SendPlan, result: SendResult, latencyMs: number, sentAtMs: number): Promise<void> {
    const { job } = ctx;
    const { number, business, newRecipient } = plan;
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
