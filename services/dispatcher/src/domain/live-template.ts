import type { TemplateCategoryChange } from '@wa/shared/template-category';
import { categoryAt } from '@wa/shared/template-category';
import type { TemplateSpec } from '@wa/shared/templates/spec';

/** What the webhooks say about a template since the catalogue (or the last sync) described it. */
export interface TemplateLiveFacts {
  /** Status from message_template_status_update. */
  status?: string;
  /** Meta's latest re-categorisation (template_category_update). */
  categoryChange?: TemplateCategoryChange;
}

/**
 * The template as the gates must see it at `nowMs`. A synced template's status is Meta's own (each
 * template webhook triggers a sync); a catalogue-declared one follows the status webhooks. The
 * category is the one in force at `nowMs` by Meta's latest re-categorisation, so an announced
 * utility → marketing change takes effect at its `category_update_timestamp`, not when announced:
 * from then on the opt-out policy, the quality hold and the category on the sent event
 * (which the cost views group by) treat the template as marketing.
 */
export function liveTemplate(t: TemplateSpec | undefined, facts: TemplateLiveFacts, nowMs: number): TemplateSpec | undefined {
  if (t === undefined) return undefined;
  const status = t.source === 'meta' ? t.status : (facts.status ?? t.status);
  const category = categoryAt(facts.categoryChange, nowMs) ?? t.category;
  return status === t.status && category === t.category ? t : { ...t, status, category };
}
