import type { TemplateRef } from '@wa/shared/contracts/common';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { digestJobIdFor } from './job-id';

/** A notification waiting in a recipient's coalescing buffer, with what it would merge into. */
export interface BufferedJob {
  job: DispatchJobV1;
  digest: TemplateRef;
  digestBodyParams: number;
}

const MAX_PARAM_CHARS = 1024;

/** Meta refuses template parameters with newlines, tabs or more than four spaces in a row. */
function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function summaryOf(job: DispatchJobV1): string {
  if (job.message.type === 'text') return clean(job.message.text.body);
  if (job.message.type === 'freeform') return job.message.content.type;
  const params = job.message.template.bodyParams ?? [];
  return clean(params.length > 0 ? params.map((p) => (typeof p === 'string' ? p : p.fallbackValue)).join(' ') : job.message.template.name);
}

function truncate(text: string): string {
  return text.length <= MAX_PARAM_CHARS ? text : `${text.slice(0, MAX_PARAM_CHARS - 1)}…`;
}

function earliest(values: (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const v of values) if (v !== undefined && (best === undefined || Date.parse(v) < Date.parse(best))) best = v;
  return best;
}

/**
 * Merges the notifications buffered for one person into as few messages as possible: one alone is
 * sent unchanged; two or more become one digest (up to `maxJobs` each) whose id is derived from
 * the ids it replaces, so a replayed flush yields the same digest. Authentication is never merged
 * (it never reaches a buffer, and is passed through here too). Pure.
 */
export function mergeBuffered(entries: readonly BufferedJob[], maxJobs: number): DispatchJobV1[] {
  const unique = new Map<string, BufferedJob>();
  for (const e of entries) if (!unique.has(e.job.jobId)) unique.set(e.job.jobId, e);
  const passthrough: DispatchJobV1[] = [];
  const mergeable: BufferedJob[] = [];
  for (const e of unique.values()) {
    if (e.job.category === 'authentication' || e.job.lane === 'auth' || e.job.message.type !== 'template') passthrough.push(e.job);
    else mergeable.push(e);
  }
  // Stable: ties keep buffer (arrival) order.
  mergeable.sort((a, b) => Date.parse(a.job.requestedAt) - Date.parse(b.job.requestedAt));
  const out = [...passthrough];
  const size = Math.min(Math.max(maxJobs, 2), 100);
  for (let i = 0; i < mergeable.length; i += size) {
    const group = mergeable.slice(i, i + size);
    if (group.length === 1) {
      out.push(group[0]!.job);
      continue;
    }
    out.push(digestOf(group));
  }
  return out;
}

function digestOf(group: readonly BufferedJob[]): DispatchJobV1 {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  const jobs = group.map((g) => g.job);
  const summary = truncate(jobs.map(summaryOf).join('; '));
  const template: TemplateRef = { ...last.digest };
  if (last.digestBodyParams === 1) template.bodyParams = [summary];
  else if (last.digestBodyParams === 2) template.bodyParams = [String(jobs.length), summary];
  const ids = jobs.map((j) => j.jobId);
  const digest: DispatchJobV1 = {
    v: 1,
    jobId: digestJobIdFor(ids),
    requestKey: first.job.requestKey,
    sender: first.job.sender,
    to: first.job.to,
    lane: first.job.lane,
    category: template.category,
    message: { type: 'template', template },
    coalescedJobIds: [...ids].sort(),
    requestedAt: first.job.requestedAt,
    attempt: 0,
  };
  const expiresAt = earliest(jobs.map((j) => j.expiresAt));
  if (expiresAt !== undefined) digest.expiresAt = expiresAt;
  if (first.job.campaignId !== undefined) digest.campaignId = first.job.campaignId;
  if (first.job.metadata !== undefined) digest.metadata = first.job.metadata;
  return digest;
}

/** The buffer a job waits in: one per person, sender and coalescing key. */
export function coalesceBufferId(job: DispatchJobV1, key: string): string {
  const sender = 'phoneNumberId' in job.sender ? `n${job.sender.phoneNumberId}` : `p${job.sender.pool}`;
  return `${job.to}:${sender}:${key}`;
}
