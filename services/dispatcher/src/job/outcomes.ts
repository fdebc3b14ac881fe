import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import type { OutRecord } from '../adapters/kafka-producer';
import { decideRetry } from '../domain/backoff';
import type { LedgerEntry } from '../ports';
import type { JobRecords } from './records';
import type { HandleJobDeps, JobContext, RunJob } from './types';

/**
 * How a job ends, each in ledger-then-Kafka order: a terminal outcome after a send, a refusal decided
 * before any send, a hold for later, a retry, and a redelivery of a job the ledger already knows.
 */
export function createJobOutcomes(deps: HandleJobDeps, records: JobRecords, run: RunJob) {
  const { config, metrics, ledger } = deps;
  const { event, sentRecordOf, sentRecord, dlqRecord, delayedRecord, senderLabel, countOutcome } = records;

  /** Terminal outcome after a send: ledger first, then the records (a redelivery re-announces from the ledger). */
  async function finish(ctx: JobContext, e: SentEventV1, extra: OutRecord[] = [], attempt = ctx.job.attempt): Promise<void> {
    const json = JSON.stringify(e);
    await ledger.recordDone(ctx.job.jobId, attempt, json);
    await deps.publish([sentRecordOf(e, json), ...extra]);
    ledger.announced(ctx.job.jobId);
    countOutcome(ctx, e);
  }

  /** Terminal outcome decided before any send (refusal, expiry, cancel): claim-and-record in one step. */
  async function refuse(ctx: JobContext, e: SentEventV1, extra: OutRecord[] = []): Promise<void> {
    const json = JSON.stringify(e);
    const r = await ledger.claimDone(ctx.job.jobId, ctx.job.attempt, json);
    if (!r.claimed) return onExisting(ctx, r.existing);
    await deps.publish([sentRecordOf(e, json), ...extra]);
    ledger.announced(ctx.job.jobId);
    countOutcome(ctx, e);
  }

  /** Holds a job for later without spending an attempt. */
  async function defer(ctx: JobContext, reason: string, delayMs: number, announce: boolean, heldFor?: DispatchJobV1['heldFor']): Promise<void> {
    metrics.deferred.inc({ reason });
    const out = [delayedRecord(ctx.job, delayMs, heldFor)];
    if (announce) {
      const eventId = `${ctx.job.jobId}:${ctx.job.attempt}:deferred:${deps.clock.now()}`;
      out.push(sentRecord(event(ctx, 'deferred', { reason: `${reason}: retry in ${Math.round(delayMs / 1000)} s` }, eventId)));
    }
    await deps.publish(out);
  }

  async function scheduleRetry(
    ctx: JobContext,
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
    await ledger.recordRetry(ctx.job.jobId, ctx.job.attempt);
    const next: DispatchJobV1 = { ...ctx.job, attempt: decision.nextAttempt, lastError: { code: String(code ?? errorClass), detail: detail.slice(0, 2000) } };
    const e = event(ctx, 'retry_scheduled', { ...extra, reason: detail.slice(0, 200), errorClass });
    await deps.publish([delayedRecord(next, decision.delayMs), sentRecord(e)]);
    metrics.retries.inc({ sender: senderLabel(ctx), error_class: errorClass });
    countOutcome(ctx, e);
  }

  /** The ledger already knows this job: a redelivery after a crash or rebalance, or a duplicate record. */
  async function onExisting(ctx: JobContext, entry: LedgerEntry): Promise<void> {
    metrics.ledgerConflicts.inc({ state: entry.st });
    if (entry.st === 'done') {
      // Kept until Kafka acknowledged it (and a while after): same eventId as the first announcement, which downstream dedupes on.
      if (entry.event) {
        await deps.publish([sentRecord(entry.event)]);
        ledger.announced(ctx.job.jobId);
      }
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
    while (current?.st === 'claimed' && (await ledger.ownerAlive(current.owner)) && deps.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      current = await ledger.peek(ctx.job.jobId);
    }
    if (current === undefined) return run(ctx.job, ctx.src, ctx.path);
    if (current.st !== 'claimed') return onExisting(ctx, current);
    if (config.unknownOutcomePolicy === 'resend') {
      await ledger.recordRetry(ctx.job.jobId, current.a - 1);
      return run({ ...ctx.job, attempt: current.a }, ctx.src, ctx.path);
    }
    metrics.unknownOutcomes.inc();
    deps.logger.warn({ jobId: ctx.job.jobId, claimOwner: current.owner }, 'send outcome unknown: claimed by a process that died before recording it');
    const e = event(ctx, 'unknown', { reason: 'claimed by a process that died before recording the outcome; not resent' }, `${ctx.job.jobId}:${current.a}`);
    return finish(ctx, e, [], current.a);
  }

  return { finish, refuse, defer, scheduleRetry, onExisting };
}
export type JobOutcomes = ReturnType<typeof createJobOutcomes>;
