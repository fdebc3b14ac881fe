import type { TemplateCategory } from './contracts/common';

/**
 * A template re-categorised by Meta (`template_category_update`). Two shapes:
 * - announced (impending): `correct_category` is what the template becomes at
 *   `category_update_timestamp` (Unix seconds, about 24 h later); `new_category` is its category
 *   until then;
 * - completed: `previous_category` → `new_category`, in force from the webhook's time.
 * The webhook service stores the change per template; the dispatcher's gates (and so the category
 * on its sent events and the cost views built on them) use the category in force at send time.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/template_category_update
 */
export interface TemplateCategoryChange {
  /** The category before `effectiveAtMs`, when Meta said. */
  from?: TemplateCategory;
  to: TemplateCategory;
  effectiveAtMs: number;
  kind: 'announced' | 'completed';
  /** When Meta reported it (ISO): a change is replaced only by a newer report. */
  updatedAt: string;
}

const CATEGORIES: Record<string, TemplateCategory> = { MARKETING: 'marketing', UTILITY: 'utility', AUTHENTICATION: 'authentication' };
const categoryOf = (v: unknown): TemplateCategory | undefined => (typeof v === 'string' ? CATEGORIES[v.trim().toUpperCase()] : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** The template and its category change from a `template_category_update` value; undefined when it names neither. */
export function templateCategoryChangeOf(
  value: unknown,
  reportedAtMs: number,
): { name: string; language: string; id?: string; change: TemplateCategoryChange } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const name = str(v.message_template_name);
  const language = str(v.message_template_language);
  if (name === undefined || language === undefined || !Number.isFinite(reportedAtMs)) return undefined;
  const updatedAt = new Date(reportedAtMs).toISOString();
  const id = str(v.message_template_id);
  const base = { name, language, ...(id !== undefined ? { id } : {}) };
  const correct = categoryOf(v.correct_category);
  const current = categoryOf(v.new_category);
  if (correct !== undefined) {
    const at = Number(v.category_update_timestamp);
    // Without a time, Meta's page says "in 24 hours".
    const effectiveAtMs = Number.isFinite(at) && at > 0 ? at * 1000 : reportedAtMs + 24 * 3_600_000;
    return { ...base, change: { ...(current !== undefined ? { from: current } : {}), to: correct, effectiveAtMs, kind: 'announced', updatedAt } };
  }
  if (current === undefined) return undefined;
  const previous = categoryOf(v.previous_category);
  return { ...base, change: { ...(previous !== undefined ? { from: previous } : {}), to: current, effectiveAtMs: reportedAtMs, kind: 'completed', updatedAt } };
}

/** The template's category at an instant by this change; undefined before an announced change when Meta did not say the current one. */
export function categoryAt(change: TemplateCategoryChange | undefined, nowMs: number): TemplateCategory | undefined {
  if (change === undefined) return undefined;
  return nowMs >= change.effectiveAtMs ? change.to : change.from;
}
