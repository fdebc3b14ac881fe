import type { DeadLetterReason, DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { buildDeadLetter } from '@wa/shared/dead-letter';
import { coalesceBufferId } from './domain/coalesce';
import type { RecipientProblem } from './domain/expand';
import type { createQuietHoursCalculator } from './domain/schedule';
import type { Plan } from './domain/validate';
import type { Envelope, PipelineDeps } from './pipeline';

/**
 * One pipeline invocation's outputs: dispatch jobs and dead letters buffered until `flush()`
 * produces them, and where each job goes (quiet-hours hold, coalescing buffer, or straight out).
 * Each invocation owns its buffer: concurrent partitions and the scheduler must never commit on
 * the strength of a flush that another invocation has in flight.
 */
export function createRunOutput(deps: PipelineDeps, quietRelease: ReturnType<typeof createQuietHoursCalculator>) {
  const { metrics, options } = deps;
  let jobs: DispatchJobV1[] = [];
  let dlq: DeadLetterV1[] = [];

  async function flush(): Promise<void> {
    if (jobs.length === 0 && dlq.length === 0) return;
    const outJobs = jobs;
    const outDlq = dlq;
    jobs = [];
    dlq = [];
    await deps.sink.send(outJobs, outDlq);
    const byLane = { auth: 0, utility: 0, marketing: 0 };
    for (const j of outJobs) byLane[j.lane]++;
    for (const [lane, n] of Object.entries(byLane)) if (n > 0) metrics.jobs.inc({ outcome: 'emitted', lane }, n);
    for (const d of outDlq) metrics.dlq.inc({ reason: d.reason });
  }

  function deadLetterRecord(env: Envelope, reason: DeadLetterReason, detail: string, request?: NotificationRequestV1): void {
    dlq.push(
      buildDeadLetter({
        reason,
        detail,
        service: options.service,
        source: env.source,
        key: env.key,
        value: env.value,
        occurredAtMs: deps.clock.now(),
        maxOriginalBytes: options.dlqMaxOriginalBytes,
        ...(request ? { requestKey: request.idempotencyKey, ...(request.campaignId !== undefined ? { campaignId: request.campaignId } : {}) } : {}),
      }),
    );
    metrics.requests.inc({ outcome: 'dead_lettered', source: env.source.kind });
  }

  function deadLetterRecipient(
    request: { idempotencyKey: string; campaignId?: string },
    index: number,
    raw: string,
    reason: DeadLetterReason,
    detail: string,
    jobId?: string,
  ): void {
    dlq.push(
      buildDeadLetter({
        reason,
        detail,
        service: options.service,
        source: { kind: 'expansion', requestKey: request.idempotencyKey, index },
        key: null,
        value: raw,
        occurredAtMs: deps.clock.now(),
        maxOriginalBytes: options.dlqMaxOriginalBytes,
        requestKey: request.idempotencyKey,
        ...(jobId !== undefined ? { jobId } : {}),
        ...(request.campaignId !== undefined ? { campaignId: request.campaignId } : {}),
      }),
    );
    metrics.jobs.inc({ outcome: 'dead_lettered', lane: 'none' });
  }

  function problemToDlq(request: NotificationRequestV1, p: RecipientProblem): void {
    deadLetterRecipient(request, p.index, p.raw, p.reason, p.detail);
  }

  /**
   * Quiet hours hold, coalescing buffer, or straight out. Only coalescing does I/O; the other
   * routes return nothing, so the per-job path does not pay for a promise and a microtask.
   */
  function route(plan: Plan, job: DispatchJobV1, country: string, quietGroups: Map<number, DispatchJobV1[]>): Promise<void> | undefined {
    if (plan.request.quietHours === true && plan.category === 'marketing') {
      const release = quietRelease(country, deps.clock.now());
      if (release !== null) {
        let group = quietGroups.get(release);
        if (!group) quietGroups.set(release, (group = []));
        group.push(job);
        return undefined;
      }
    }
    if (plan.coalesce) return bufferForCoalescing(plan.coalesce, job);
    jobs.push(job);
    return undefined;
  }

  async function bufferForCoalescing(coalesce: NonNullable<Plan['coalesce']>, job: DispatchJobV1): Promise<void> {
    const bufferId = coalesceBufferId(job, coalesce.key);
    const fresh = await deps.holds.buffer(
      bufferId,
      { job, digest: coalesce.digest, digestBodyParams: coalesce.digestBodyParams },
      options.coalesceWindowMs,
      deps.clock.now(),
    );
    if (fresh) metrics.jobs.inc({ outcome: 'buffered', lane: job.lane });
  }

  async function holdQuietGroups(requestKey: string, chunk: number, groups: Map<number, DispatchJobV1[]>): Promise<void> {
    for (const [release, group] of groups) {
      await deps.holds.hold(`j:${requestKey}:${chunk}:${release}`, { kind: 'jobs', jobs: group }, release);
      metrics.jobs.inc({ outcome: 'held', lane: group[0]?.lane ?? 'marketing' }, group.length);
    }
  }

  return {
    flush,
    deadLetterRecord,
    deadLetterRecipient,
    problemToDlq,
    route,
    holdQuietGroups,
    pushJobs: (js: DispatchJobV1[]) => void jobs.push(...js),
    pending: () => jobs.length + dlq.length,
  };
}
export type RunOutput = ReturnType<typeof createRunOutput>;
