import type { TemplateRef } from '@wa/shared/contracts/common';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { RecipientEntry } from '@wa/shared/contracts/notification-request';
import { normalisePhone } from '@wa/shared/phone';
import { jobIdFor } from './job-id';
import type { Plan } from './validate';

/** One recipient as the request or audience file named it, before normalisation. */
export interface RawRecipient {
  index: number;
  to: string;
  bodyParams?: string[];
  headerParams?: string[];
}

export type RecipientProblem = { index: number; raw: string; reason: 'invalid_recipient' | 'template_params_mismatch'; detail: string };

export interface ResolvedRecipient {
  index: number;
  waId: string;
  country: string;
  bodyParams?: string[];
  headerParams?: string[];
}

/** The recipients of a `to` or `recipients` request, in order. Audiences are streamed elsewhere. */
export function inlineRecipients(request: { to?: string; recipients?: RecipientEntry[] }): RawRecipient[] {
  if (request.to !== undefined) return [{ index: 0, to: request.to }];
  return (request.recipients ?? []).map((entry, index) =>
    typeof entry === 'string' ? { index, to: entry } : { index, to: entry.to, bodyParams: entry.bodyParams, headerParams: entry.headerParams },
  );
}

export function describeRaw(raw: RawRecipient): string {
  return JSON.stringify(raw.bodyParams || raw.headerParams ? { to: raw.to, bodyParams: raw.bodyParams, headerParams: raw.headerParams } : raw.to);
}

/** Normalises the number and checks per-recipient template parameters against the catalogue. */
export function resolveRecipient(plan: Plan, raw: RawRecipient): { ok: true; recipient: ResolvedRecipient } | { ok: false; problem: RecipientProblem } {
  const phone = normalisePhone(raw.to);
  if (!phone.ok) return { ok: false, problem: { index: raw.index, raw: describeRaw(raw), reason: 'invalid_recipient', detail: phone.reason } };
  const spec = plan.templateSpec;
  if (spec) {
    const body = raw.bodyParams ?? (plan.message.type === 'template' ? plan.message.template.bodyParams : undefined) ?? [];
    const header = raw.headerParams ?? (plan.message.type === 'template' ? plan.message.template.headerParams : undefined) ?? [];
    if (body.length !== spec.bodyParams || header.length !== spec.headerParams) {
      return {
        ok: false,
        problem: {
          index: raw.index,
          raw: describeRaw(raw),
          reason: 'template_params_mismatch',
          detail: `template ${spec.name} takes ${spec.headerParams} header and ${spec.bodyParams} body parameters, got ${header.length} and ${body.length}`,
        },
      };
    }
  }
  return { ok: true, recipient: { index: raw.index, waId: phone.waId, country: phone.country, bodyParams: raw.bodyParams, headerParams: raw.headerParams } };
}

/**
 * Every problem of a `to`/`recipients` request's recipients at once (number, per-recipient parameters):
 * the HTTP door answers 400 with them; the Kafka door dead-letters each recipient on its own.
 */
export function inlineRecipientProblems(plan: Plan): RecipientProblem[] {
  const problems: RecipientProblem[] = [];
  for (const raw of inlineRecipients(plan.request)) {
    const resolved = resolveRecipient(plan, raw);
    if (!resolved.ok) problems.push(resolved.problem);
  }
  return problems;
}

/** One dispatch job for one person. `requestedAt` comes from the caller so replays are identical. */
export function buildJob(plan: Plan, recipient: ResolvedRecipient, requestedAt: string): DispatchJobV1 {
  const r = plan.request;
  let message = plan.message;
  if (message.type === 'template' && (recipient.bodyParams || recipient.headerParams)) {
    const template: TemplateRef = { ...message.template };
    if (recipient.bodyParams) template.bodyParams = recipient.bodyParams;
    if (recipient.headerParams) template.headerParams = recipient.headerParams;
    message = { type: 'template', template };
  }
  const job: DispatchJobV1 = {
    v: 1,
    jobId: jobIdFor(r.idempotencyKey, recipient.waId),
    requestKey: r.idempotencyKey,
    sender: r.sender,
    to: recipient.waId,
    lane: plan.lane,
    category: plan.category,
    message,
    requestedAt,
    attempt: 0,
  };
  if (r.fallbackTemplate) job.fallbackTemplate = r.fallbackTemplate;
  if (r.campaignId !== undefined) job.campaignId = r.campaignId;
  if (r.notBefore !== undefined) job.notBefore = r.notBefore;
  if (r.expiresAt !== undefined) job.expiresAt = r.expiresAt;
  if (r.quietHours !== undefined) job.quietHours = r.quietHours;
  if (r.metadata !== undefined) job.metadata = r.metadata;
  return job;
}

/**
 * Keeps the first occurrence of each person within a bounded list (inline recipients): the same
 * number written twice, or in two spellings, gets one message.
 */
export function dedupeInline<T extends { waId: string }>(items: readonly T[]): { kept: T[]; duplicates: number } {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const item of items) {
    if (seen.has(item.waId)) continue;
    seen.add(item.waId);
    kept.push(item);
  }
  return { kept, duplicates: items.length - kept.length };
}
