import type { MessageCategory, TemplateRef } from '@wa/shared/contracts/common';
import type { DeadLetterReason } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1, DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import { checkTemplateRef, withSpecNames } from '@wa/shared/templates/check';
import type { TemplateSpec } from '@wa/shared/templates/spec';

/** What the gates need to know about the world, gathered by the caller (no I/O here). */
export interface ComplianceFacts {
  nowMs: number;
  /** The person said STOP to this business account. */
  optedOut: boolean;
  /** Epoch ms of the person's last inbound message to this number, if any. */
  lastInboundMs: number | undefined;
  serviceWindowMs: number;
  /** Catalogue entry of a template for the sender's business account, with its live status. */
  template: (ref: TemplateRef) => TemplateSpec | undefined;
  optOutPolicy: 'marketing_only' | 'all';
}

export type ComplianceDecision =
  | {
      action: 'send';
      message: DispatchMessage;
      category: MessageCategory;
      /** Outside a service window: counts against the portfolio's messaging limit. */
      businessInitiated: boolean;
      usedFallback: boolean;
    }
  | {
      action: 'reject';
      reason: Extract<DeadLetterReason, 'opted_out' | 'outside_service_window' | 'unknown_template' | 'template_not_approved' | 'template_params_mismatch'>;
      detail: string;
    }
  | { action: 'expire'; detail: string };

function checkTemplate(ref: TemplateRef, facts: ComplianceFacts): ComplianceDecision | { category: MessageCategory; template: TemplateRef } {
  const t = facts.template(ref);
  if (!t)
    return { action: 'reject', reason: 'unknown_template', detail: `template ${ref.name}/${ref.language} is not in the catalogue of this business account` };
  if (t.status !== 'APPROVED') return { action: 'reject', reason: 'template_not_approved', detail: `template ${ref.name}/${ref.language} is ${t.status}` };
  // The template may have changed at Meta since ingest checked the request: check again.
  const problems = checkTemplateRef(ref, t);
  if (problems.length > 0)
    return { action: 'reject', reason: 'template_params_mismatch', detail: `template ${ref.name}/${ref.language}: ${problems.join('; ')}` };
  // The category is the template's current one at Meta (it may have been re-categorised).
  return { category: t.category, template: withSpecNames(ref.category === t.category ? ref : { ...ref, category: t.category }, t) };
}

/**
 * The gates every job passes before a send: expiry, the 24 h service window (free-form only inside
 * it, else the fallback template), template existence/status/parameter count, then opt-out on the
 * category actually sent. Every refusal carries a reason code and a readable detail.
 */
export function evaluateCompliance(
  job: Pick<DispatchJobV1, 'message' | 'fallbackTemplate' | 'expiresAt' | 'category'>,
  facts: ComplianceFacts,
): ComplianceDecision {
  if (job.expiresAt !== undefined && Date.parse(job.expiresAt) <= facts.nowMs) {
    return { action: 'expire', detail: `expired at ${job.expiresAt} before it could be sent` };
  }
  const windowOpen = facts.lastInboundMs !== undefined && facts.nowMs - facts.lastInboundMs < facts.serviceWindowMs;

  let message: DispatchMessage = job.message;
  let usedFallback = false;
  if (message.type !== 'template' && !windowOpen) {
    if (!job.fallbackTemplate) {
      return {
        action: 'reject',
        reason: 'outside_service_window',
        detail: 'free-form content needs an open 24 h service window and the job has no fallback template',
      };
    }
    message = { type: 'template', template: job.fallbackTemplate };
    usedFallback = true;
  }

  let category: MessageCategory = 'service';
  if (message.type === 'template') {
    const checked = checkTemplate(message.template, facts);
    if ('action' in checked) return checked;
    category = checked.category;
    message = { type: 'template', template: checked.template };
  }

  if (facts.optedOut && (category === 'marketing' || facts.optOutPolicy === 'all')) {
    return { action: 'reject', reason: 'opted_out', detail: `recipient opted out; ${category} messages are not sent to them` };
  }
  return { action: 'send', message, category, businessInitiated: !windowOpen, usedFallback };
}
