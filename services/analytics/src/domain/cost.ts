import { isFreeUnder, regimeAt, type PricingRegime } from './pricing-rules';
import type { PricingModel, RateCard } from './rate-card';

/** The pricing-relevant part of a status event, already normalised (times in ms, country derived). */
export interface PricedStatus {
  wamid: string;
  status: string;
  statusAtMs: number;
  /** When the message was sent (the dispatcher's accepted send or its `sent` status), when known. */
  sentAtMs?: number | undefined;
  country: string;
  pricing?: { billable?: boolean | undefined; pricingModel: string; category: string; type?: string | undefined } | undefined;
  conversation?: { id?: string | undefined; expiresAtMs?: number | undefined } | undefined;
}

export interface Charge {
  /** One charge per key: `CBP:<conversation id>` (or `CBP:msg:<wamid>` without one) or `PMP:<wamid>`. */
  chargeKey: string;
  pricingModel: PricingModel;
  /** The rule set in force at `pricedAtMs` (see pricing-rules.ts). */
  regime: PricingRegime;
  category: string;
  country: string;
  billable: boolean;
  /** Why the unit is free (`free_customer_service`, `free_entry_point`, `not_billable`); empty when charged. */
  freeType: string;
  /** The instant whose rules and rate card apply: the send (or, unknown, the status) under PMP; the conversation start under CBP. */
  pricedAtMs: number;
  rateMicros: number;
  costMicros: number;
  /** `effective_from` of the rate used; empty when free or unpriced. */
  rateEffectiveFrom: string;
  /** Billable but the card has no rate for it (neither the country nor ZZ): recorded at zero and flagged. */
  unpriced: boolean;
}

const CONVERSATION_MS = 24 * 3_600_000;
/** Meta prices on delivery: only these statuses create charges (a `sent` or `failed` message costs nothing). */
const CHARGING_STATUSES = new Set(['delivered', 'read']);

/**
 * What one status event costs, or null when it carries nothing to price.
 *
 * Conversation-based pricing (until 2025-06-30): one charge per billable conversation id, at the
 * rate in force when the conversation started (its expiry minus 24 h, which every status of the
 * conversation agrees on, so the result does not depend on which status arrives first).
 * Per-message pricing (from 2025-07-01): one charge per message whose pricing type is `regular`
 * (or, without a type, `billable: true`), by the rule set and rate in force when the message was
 * sent (the status time when the send time is unknown), so a message sent on 2026-09-30 and
 * delivered on 2026-10-01 is priced by the 2025 rules; free types are
 * recorded at zero. From 2026-10-01 (`PMP_2026`) `free_customer_service` is no longer free: service
 * and in-window utility messages are billed, whatever a stale emitter still labels them. Several statuses of one unit yield the same key; the store keeps the earliest.
 */
export function chargeFor(event: PricedStatus, card: RateCard): Charge | null {
  const pricing = event.pricing;
  if (!pricing || !CHARGING_STATUSES.has(event.status)) return null;
  const model = pricing.pricingModel.toUpperCase();
  if (model !== 'CBP' && model !== 'PMP') return null;
  const category = pricing.category.toLowerCase();

  let chargeKey: string;
  let billable: boolean;
  let freeType = '';
  let pricedAtMs = event.statusAtMs;
  if (model === 'CBP') {
    const conversationId = event.conversation?.id;
    chargeKey = conversationId ? `CBP:${conversationId}` : `CBP:msg:${event.wamid}`;
    const expiresAtMs = event.conversation?.expiresAtMs;
    if (conversationId && expiresAtMs !== undefined) pricedAtMs = expiresAtMs - CONVERSATION_MS;
    billable = pricing.billable !== false;
    if (!billable) freeType = pricing.type && pricing.type !== 'regular' ? pricing.type : 'not_billable';
  } else {
    chargeKey = `PMP:${event.wamid}`;
    if (event.sentAtMs !== undefined && event.sentAtMs <= event.statusAtMs) pricedAtMs = event.sentAtMs;
    billable = pricing.type !== undefined ? !isFreeUnder(regimeAt(pricedAtMs), pricing.type) : pricing.billable === true;
    if (!billable) freeType = pricing.type ?? 'not_billable';
  }

  const quote = billable ? card.lookup(event.country, category, model as PricingModel, pricedAtMs) : undefined;
  // One literal, not `{ ...base, … }`: V8 clones a spread object slowly (~10 µs a charge on Node 20).
  return {
    chargeKey,
    pricingModel: model as PricingModel,
    regime: model === 'CBP' ? 'CBP' : regimeAt(pricedAtMs),
    category,
    country: event.country,
    billable,
    freeType,
    pricedAtMs,
    rateMicros: quote?.rateMicros ?? 0,
    costMicros: quote?.rateMicros ?? 0,
    rateEffectiveFrom: quote?.effectiveFrom ?? '',
    unpriced: billable && quote === undefined,
  };
}

/** Sums charges as the store does: one per key, the one priced from the earliest event winning. */
export function totalCostMicros(charges: readonly (Charge & { eventAtMs: number })[]): number {
  const byKey = new Map<string, Charge & { eventAtMs: number }>();
  for (const c of charges) {
    const prev = byKey.get(c.chargeKey);
    if (!prev || c.eventAtMs < prev.eventAtMs) byKey.set(c.chargeKey, c);
  }
  let total = 0;
  for (const c of byKey.values()) total += c.costMicros;
  return total;
}
