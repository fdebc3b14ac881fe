import type { ButtonParam, HeaderValue, ParamValue, TemplateRef } from '@wa/shared/contracts/common';
import { checkTemplateRef } from '@wa/shared/templates/check';
import type { TemplateSpec } from '@wa/shared/templates/spec';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { RecipientEntry } from '@wa/shared/contracts/notification-request';
import { normalisePhone } from '@wa/shared/phone';
import { jobIdFor } from './job-id';
import type { Plan } from './validate';

/** Per-recipient template values: from a recipient object, an NDJSON line or CSV columns. */
export interface RecipientValues {
  bodyParams?: ParamValue[];
  headerParams?: string[];
  namedParams?: Record<string, ParamValue>;
  header?: HeaderValue;
  buttonParams?: ButtonParam[];
  /** CSV `button.<index>` columns: the value of that button, whose kind the template says. */
  buttonValues?: Record<number, string>;
}

/** One recipient as the request or audience file named it, before normalisation. */
export interface RawRecipient extends RecipientValues {
  index: number;
  to: string;
}

export type RecipientProblem = { index: number; raw: string; reason: 'invalid_recipient' | 'template_params_mismatch'; detail: string };

export interface ResolvedRecipient {
  index: number;
  waId: string;
  country: string;
  /** The recipient's own template, when its values differ from the request's. */
  template?: TemplateRef;
}

const VALUE_KEYS = ['bodyParams', 'headerParams', 'namedParams', 'header', 'buttonParams', 'buttonValues'] as const;

function hasValues(raw: RecipientValues): boolean {
  return VALUE_KEYS.some((k) => raw[k] !== undefined);
}

/** The recipients of a `to` or `recipients` request, in order. Audiences are streamed elsewhere. */
export function inlineRecipients(request: { to?: string; recipients?: RecipientEntry[] }): RawRecipient[] {
  if (request.to !== undefined) return [{ index: 0, to: request.to }];
  return (request.recipients ?? []).map((entry, index) => (typeof entry === 'string' ? { index, to: entry } : { index, ...entry }));
}

export function describeRaw(raw: RawRecipient): string {
  if (!hasValues(raw)) return JSON.stringify(raw.to);
  const { index: _index, ...rest } = raw;
  return JSON.stringify(rest);
}

/** The request's template with one recipient's values laid over it (buttons replaced by index). */
export function mergeRecipient(base: TemplateRef, raw: RecipientValues, spec: TemplateSpec | undefined): TemplateRef {
  const t: TemplateRef = { ...base };
  if (raw.bodyParams) t.bodyParams = raw.bodyParams;
  if (raw.namedParams) t.namedParams = { ...base.namedParams, ...raw.namedParams };
  if (raw.header) {
    t.header = raw.header;
    delete t.headerParams;
  } else if (raw.headerParams) {
    t.headerParams = raw.headerParams;
    delete t.header;
  }
  const extra: ButtonParam[] = [...(raw.buttonParams ?? [])];
  for (const [i, text] of Object.entries(raw.buttonValues ?? {})) {
    if (text === '') continue; // an empty cell gives no value
    const index = Number(i);
    const subType = spec?.buttons.find((b) => b.index === index)?.subType ?? base.buttonParams?.find((b) => b.index === index)?.subType ?? 'url';
    extra.push({ index, subType, text });
  }
  if (extra.length > 0) {
    const byIndex = new Map((base.buttonParams ?? []).map((b) => [b.index, b]));
    for (const b of extra) byIndex.set(b.index, b);
    t.buttonParams = [...byIndex.values()].sort((a, b) => a.index - b.index);
  }
  return t;
}

/** Normalises the number and, when the recipient brings its own values, checks the merged template. */
export function resolveRecipient(plan: Plan, raw: RawRecipient): { ok: true; recipient: ResolvedRecipient } | { ok: false; problem: RecipientProblem } {
  const phone = normalisePhone(raw.to);
  if (!phone.ok) return { ok: false, problem: { index: raw.index, raw: describeRaw(raw), reason: 'invalid_recipient', detail: phone.reason } };
  const recipient: ResolvedRecipient = { index: raw.index, waId: phone.waId, country: phone.country };
  const spec = plan.templateSpec;
  if (plan.message.type === 'template' && (plan.perRecipient || hasValues(raw))) {
    const template = hasValues(raw) ? mergeRecipient(plan.message.template, raw, spec) : plan.message.template;
    const problems = spec ? checkTemplateRef(template, spec) : [];
    if (problems.length > 0) {
      return {
        ok: false,
        problem: {
          index: raw.index,
          raw: describeRaw(raw),
          reason: 'template_params_mismatch',
          detail: `template ${template.name}/${template.language}: ${problems.join('; ')}`,
        },
      };
    }
    if (template !== plan.message.template) recipient.template = template;
  }
  return { ok: true, recipient };
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
  if (message.type === 'template' && recipient.template) message = { type: 'template', template: recipient.template };
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
