import { standingFacetOf, type AccountStanding, type StandingFacet } from '@wa/shared/account-standing';
import type { AccountEventV1, InboundEventV1 } from '@wa/shared/contracts/events';
import { templateCategoryChangeOf, type TemplateCategoryChange } from '@wa/shared/template-category';
import type { KeywordMatcher } from './keywords';

/**
 * A phone number's stored state (Redis JSON). Each value says where it came from and when, so the
 * dispatcher's GET /v1/senders can show it; a write without a value keeps the stored one.
 */
export interface PhoneStateValue {
  quality: string;
  event: string;
  updatedAt: string;
  source: 'webhook' | 'graph_api';
  qualityAt?: string;
  throughputMps?: number;
  throughputAt?: string;
}

/** What the dispatcher must learn from a webhook; applied to Redis by the state adapter. */
export type StateChange =
  | { kind: 'service_window'; phoneNumberId: string; waId: string; lastInboundMs: number }
  | { kind: 'opt_out'; wabaId: string; waId: string; atMs: number }
  | { kind: 'opt_in'; wabaId: string; waId: string; atMs: number }
  | { kind: 'messaging_limit'; wabaId: string; value: { limit: number | null; event: string; updatedAt: string; source: 'webhook' | 'graph_api' } }
  | {
      kind: 'phone_quality';
      wabaId: string;
      phoneNumberId?: string;
      displayPhoneNumber?: string;
      value: PhoneStateValue;
    }
  | { kind: 'template_status'; wabaId: string; name: string; language: string; status: string }
  | { kind: 'pricing_tier'; wabaId: string; value: Record<string, unknown> }
  | { kind: 'account_standing'; wabaId: string; facet: StandingFacet; value: NonNullable<AccountStanding[StandingFacet]> }
  | { kind: 'template_category'; wabaId: string; name: string; language: string; value: TemplateCategoryChange }
  | { kind: 'template_quality'; wabaId: string; name: string; language: string; value: { score: string; previous?: string; updatedAt: string } };

/** Changes that the dispatcher must hear about at once (pub/sub), not only on its next read. */
export function isAccountChange(change: StateChange): boolean {
  return change.kind !== 'service_window' && change.kind !== 'opt_out' && change.kind !== 'opt_in';
}

const QUALITY_BY_EVENT: Record<string, string> = { FLAGGED: 'RED', UNFLAGGED: 'GREEN' };
const QUALITY_VALUES = new Set(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']);

function explicitQuality(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  for (const field of ['quality', 'quality_rating', 'quality_score']) {
    const raw = v[field];
    const candidate = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).score : raw;
    if (typeof candidate === 'string' && QUALITY_VALUES.has(candidate.toUpperCase())) return candidate.toUpperCase();
  }
  return undefined;
}

export function inboundChanges(event: InboundEventV1, keywords: KeywordMatcher): StateChange[] {
  const atMs = Date.parse(event.sentAt);
  const changes: StateChange[] = [{ kind: 'service_window', phoneNumberId: event.phoneNumberId, waId: event.from, lastInboundMs: atMs }];
  const intent = keywords.classify(event.text) ?? keywords.classify(event.buttonPayload);
  if (intent !== undefined) changes.push({ kind: intent, wabaId: event.wabaId, waId: event.from, atMs });
  return changes;
}

export function accountChanges(event: AccountEventV1): StateChange[] {
  const changes: StateChange[] = [];
  const updatedAt = event.occurredAt;
  const eventName = event.event ?? event.field;
  if (event.messagingLimit !== undefined && (event.kind === 'phone_quality' || event.kind === 'business_capability')) {
    changes.push({ kind: 'messaging_limit', wabaId: event.wabaId, value: { limit: event.messagingLimit, event: eventName, updatedAt, source: 'webhook' } });
  }
  if (event.kind === 'phone_quality') {
    const quality = explicitQuality(event.value) ?? QUALITY_BY_EVENT[eventName.toUpperCase()];
    // Tier-only events (UPGRADE/DOWNGRADE/ONBOARDING) say nothing about the rating: keep the stored one.
    if (quality !== undefined || event.throughputMps !== undefined) {
      const value: PhoneStateValue = { quality: quality ?? 'UNKNOWN', event: eventName, updatedAt, source: 'webhook' };
      if (quality !== undefined) value.qualityAt = updatedAt;
      if (event.throughputMps !== undefined) {
        value.throughputMps = event.throughputMps;
        value.throughputAt = updatedAt;
      }
      const change: StateChange = { kind: 'phone_quality', wabaId: event.wabaId, value };
      if (event.phoneNumberId !== undefined) change.phoneNumberId = event.phoneNumberId;
      if (event.displayPhoneNumber !== undefined) change.displayPhoneNumber = event.displayPhoneNumber;
      changes.push(change);
    }
  }
  if (event.kind === 'template_status' && event.template !== undefined && event.event !== undefined) {
    changes.push({ kind: 'template_status', wabaId: event.wabaId, name: event.template.name, language: event.template.language, status: event.event });
  }
  if (event.field === 'user_preferences') changes.push(...marketingPreferenceChanges(event));
  if (event.kind === 'account_update' && /PRICING_TIER/i.test(eventName)) {
    const value = typeof event.value === 'object' && event.value !== null ? (event.value as Record<string, unknown>) : {};
    changes.push({ kind: 'pricing_tier', wabaId: event.wabaId, value: { ...value, event: eventName, updatedAt } });
  }
  if (event.kind === 'account_update') {
    const standing = standingFacetOf(event.value, updatedAt);
    if (standing !== undefined) changes.push({ kind: 'account_standing', wabaId: event.wabaId, facet: standing.facet, value: standing.value });
  }
  if (event.field === 'template_category_update') {
    const c = templateCategoryChangeOf(event.value, Date.parse(updatedAt));
    if (c !== undefined) changes.push({ kind: 'template_category', wabaId: event.wabaId, name: c.name, language: c.language, value: c.change });
  }
  if (event.field === 'message_template_quality_update') changes.push(...templateQualityChanges(event));
  return changes;
}

/**
 * `message_template_quality_update`: a template's quality score (GREEN, YELLOW, RED, UNKNOWN), kept
 * per template for GET /v1/templates and the dashboard; the template's status webhooks do the pausing.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_quality_update
 */
function templateQualityChanges(event: AccountEventV1): StateChange[] {
  const v = typeof event.value === 'object' && event.value !== null ? (event.value as Record<string, unknown>) : {};
  const score = typeof v.new_quality_score === 'string' ? v.new_quality_score.toUpperCase() : undefined;
  if (event.template === undefined || score === undefined) return [];
  const value: { score: string; previous?: string; updatedAt: string } = { score, updatedAt: event.occurredAt };
  if (typeof v.previous_quality_score === 'string') value.previous = v.previous_quality_score.toUpperCase();
  return [{ kind: 'template_quality', wabaId: event.wabaId, name: event.template.name, language: event.template.language, value }];
}

/**
 * `user_preferences`: a person stopped (or resumed) marketing messages from this business, in
 * WhatsApp itself. Recorded as an opt-out (opt-in), keyed by phone number or business-scoped user id.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences
 */
function marketingPreferenceChanges(event: AccountEventV1): StateChange[] {
  const value = typeof event.value === 'object' && event.value !== null ? (event.value as Record<string, unknown>) : {};
  const prefs = Array.isArray(value.user_preferences) ? value.user_preferences : [];
  const changes: StateChange[] = [];
  for (const p of prefs) {
    if (typeof p !== 'object' || p === null) continue;
    const pref = p as Record<string, unknown>;
    const waId =
      typeof pref.wa_id === 'string' && pref.wa_id !== '' ? pref.wa_id : typeof pref.user_id === 'string' && pref.user_id !== '' ? pref.user_id : undefined;
    if (waId === undefined || pref.category !== 'marketing_messages') continue;
    const ts = Number(pref.timestamp);
    const atMs = Number.isFinite(ts) && ts > 0 ? ts * 1000 : Date.parse(event.occurredAt);
    const choice = String(pref.value ?? '').toLowerCase();
    if (choice === 'stop') changes.push({ kind: 'opt_out', wabaId: event.wabaId, waId, atMs });
    else if (choice === 'resume') changes.push({ kind: 'opt_in', wabaId: event.wabaId, waId, atMs });
  }
  return changes;
}
