import type { ConversationBook } from './conversations';
import type { MessageStore } from './message-store';
import type { Scenario } from './scenario';

/** From this instant Meta bills service messages and utility templates inside the service window. */
export const SERVICE_BILLED_FROM_MS = Date.parse('2026-10-01T00:00:00Z');

export interface SendPrice {
  /** Index in PRICING_TYPE: 0 regular, 1 free_customer_service, 2 free_entry_point. */
  pricingType: number;
  billable: boolean;
  /** Whether the status webhooks carry a `conversation` object (so one must be resolved). */
  withConversation: boolean;
}

/**
 * Pricing by the rules in force at send time (Meta's pricing page): PMP from 2025-07-01 charges
 * each template except utility inside an open service window, and service messages are free;
 * from 2026-10-01 service and in-window utility are charged too. Free entry points stay free.
 * `category` is an index in CATEGORY (0 service, 1 marketing, 2 utility, 3 authentication).
 */
export function priceSend(pricing: Scenario['pricing'], category: number, windowOpen: boolean, fepOpen: boolean, now: number): SendPrice {
  let pricingType = 0;
  if (fepOpen) pricingType = 2;
  else if (now < SERVICE_BILLED_FROM_MS && (category === 0 || (category === 2 && windowOpen))) pricingType = 1;
  const cbp = pricing.model === 'CBP';
  const billable = cbp ? !fepOpen && category !== 0 : pricingType === 0;
  // Under PMP, v24 status webhooks carry a `conversation` only for free entry points (v23 style with
  // `pmpConversationObject: true`).
  const withConversation = cbp || fepOpen || pricing.pmpConversationObject;
  return { pricingType, billable, withConversation };
}

/** Adds the `conversation` and `pricing` objects of a sent or delivered status to `st`. */
export function addStatusPricing(
  st: Record<string, unknown>,
  status: 'sent' | 'delivered',
  idx: number,
  store: MessageStore,
  conversations: ConversationBook,
  model: Scenario['pricing']['model'],
): void {
  const c = store.convOf(idx);
  if (c >= 0) {
    const conv: Record<string, unknown> = { id: conversations.id(c) };
    if (status === 'sent') conv.expiration_timestamp = String(Math.floor(conversations.expiresAt(c) / 1000));
    conv.origin = { type: conversations.origin(c) };
    st.conversation = conv;
  }
  if (model === 'CBP') {
    st.pricing = { billable: store.billableOf(idx), pricing_model: 'CBP', category: c >= 0 ? conversations.origin(c) : store.categoryOf(idx) };
  } else {
    const type = store.pricingTypeOf(idx);
    const category = type === 'free_entry_point' ? 'referral_conversion' : store.categoryOf(idx);
    st.pricing = { billable: store.billableOf(idx), pricing_model: 'PMP', category, type };
  }
}
