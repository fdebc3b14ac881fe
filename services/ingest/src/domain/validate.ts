import type { CatalogIndex } from '@wa/shared/catalog';
import type { Lane, MessageCategory, TemplateRef } from '@wa/shared/contracts/common';
import type { DeadLetterReason } from '@wa/shared/contracts/dead-letter';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import type { NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { checkTemplateRef } from '@wa/shared/templates/check';
import { laneFor } from './lanes';

type CatalogTemplate = NonNullable<ReturnType<CatalogIndex['template']>>;

/** What every recipient of one request shares, resolved once against the catalogue. */
export interface Plan {
  request: NotificationRequestV1;
  category: MessageCategory;
  lane: Lane;
  message: DispatchMessage;
  /** The template's structure (synced from Meta or declared in the catalogue), for per-recipient checks. */
  templateSpec?: CatalogTemplate;
  /** Recipients carry their own parameters: each is checked once its values are merged in. */
  perRecipient?: boolean;
  /** Set when notifications of this request may be merged per recipient. */
  coalesce?: { key: string; digest: TemplateRef; digestBodyParams: number };
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; reason: DeadLetterReason; detail: string };

export interface PlanOptions {
  coalesceWindowMs: number;
}

function wabaOfSender(request: NotificationRequestV1, catalog: CatalogIndex): { ok: true; wabaId: string } | { ok: false; detail: string } {
  if ('phoneNumberId' in request.sender) {
    const number = catalog.phoneNumber(request.sender.phoneNumberId);
    if (!number) return { ok: false, detail: `phone number ${request.sender.phoneNumberId} is not in the catalogue` };
    return { ok: true, wabaId: number.wabaId };
  }
  const ids = catalog.pool(request.sender.pool);
  const first = ids?.[0] === undefined ? undefined : catalog.phoneNumber(ids[0]);
  if (!first) return { ok: false, detail: `sender pool ${request.sender.pool} is not in the catalogue` };
  return { ok: true, wabaId: first.wabaId };
}

/**
 * Resolves a schema-valid request against the catalogue: the sender and its business account,
 * the template (the catalogue's category is authoritative, since it is what Meta bills), the
 * lane, and whether coalescing applies. Pure: the catalogue is passed in.
 */
export function planRequest(request: NotificationRequestV1, catalog: CatalogIndex, options: PlanOptions): PlanResult {
  const waba = wabaOfSender(request, catalog);
  if (!waba.ok) return { ok: false, reason: 'unknown_sender', detail: waba.detail };

  if (request.text || request.content) {
    if (request.fallbackTemplate) {
      const fb = catalog.template(waba.wabaId, request.fallbackTemplate.name, request.fallbackTemplate.language);
      if (!fb) {
        return {
          ok: false,
          reason: 'unknown_template',
          detail: `fallback template ${request.fallbackTemplate.name}/${request.fallbackTemplate.language} is not in business ${waba.wabaId}`,
        };
      }
    }
    return {
      ok: true,
      plan: { request, category: 'service', lane: laneFor('service', request.priority), message: freeFormMessage(request) },
    };
  }

  const ref = request.template;
  if (!ref) return { ok: false, reason: 'schema_violation', detail: 'template: a template or text is required' };
  const spec = catalog.template(waba.wabaId, ref.name, ref.language);
  if (!spec) return { ok: false, reason: 'unknown_template', detail: `template ${ref.name}/${ref.language} is not in business ${waba.wabaId}` };
  const perRecipient = request.audience !== undefined || (request.recipients ?? []).some((r) => typeof r !== 'string');
  const problems = checkTemplateRef(ref, spec, { partial: perRecipient });
  if (problems.length > 0) return { ok: false, reason: 'template_params_mismatch', detail: `template ${ref.name}/${ref.language}: ${problems.join('; ')}` };

  const namedDigest = request.coalesce?.digestTemplate;
  if (namedDigest && !catalog.template(waba.wabaId, namedDigest.name, namedDigest.language)) {
    return { ok: false, reason: 'unknown_template', detail: `digest template ${namedDigest.name}/${namedDigest.language} is not in business ${waba.wabaId}` };
  }

  const category = spec.category;
  const template: TemplateRef = { ...ref, category };
  const plan: Plan = {
    request,
    category,
    lane: laneFor(category, request.priority),
    message: { type: 'template', template },
    templateSpec: spec,
    perRecipient,
  };

  const wantsCoalescing = request.coalesce !== undefined || spec.coalescible;
  if (options.coalesceWindowMs > 0 && wantsCoalescing && category !== 'authentication' && request.audience === undefined) {
    const digest = resolveDigest(request, spec, catalog, waba.wabaId);
    if (digest) plan.coalesce = { key: request.coalesce?.key ?? `t:${ref.name}:${ref.language}`, ...digest };
  }
  return { ok: true, plan };
}

function resolveDigest(request: NotificationRequestV1, spec: CatalogTemplate, catalog: CatalogIndex, wabaId: string) {
  const named = request.coalesce?.digestTemplate ?? (spec.digestTemplate ? { name: spec.digestTemplate, language: spec.language } : undefined);
  if (!named) return undefined;
  const digestSpec = catalog.template(wabaId, named.name, named.language);
  // A digest is filled with a count and a summary line; templates needing more cannot be filled.
  if (!digestSpec || digestSpec.category === 'authentication') return undefined;
  if (digestSpec.headerParams > 0 || digestSpec.buttonParams > 0 || digestSpec.bodyParams > 2) return undefined;
  const digest: TemplateRef = { name: digestSpec.name, language: digestSpec.language, category: digestSpec.category };
  return { digest, digestBodyParams: digestSpec.bodyParams };
}

/** A free-form request as the dispatch job carries it: plain `text` as before, anything else as `freeform`. */
function freeFormMessage(request: NotificationRequestV1): DispatchMessage {
  if (request.text && request.replyTo === undefined) return { type: 'text', text: request.text };
  const content = request.content ?? { type: 'text' as const, text: request.text! };
  return { type: 'freeform', content, ...(request.replyTo !== undefined ? { replyTo: request.replyTo } : {}) };
}
