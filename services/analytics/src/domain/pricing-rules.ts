/**
 * Meta's pricing rule sets, by effective date (UTC day boundaries).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
 *
 * - `CBP` until 2025-06-30: one charge per 24 h conversation; service conversations free.
 * - `PMP_2025` from 2025-07-01: per delivered message; marketing and authentication templates billed,
 *   utility templates free inside an open customer-service window, service (non-template) free,
 *   free entry points free.
 * - `PMP_2026` from 2026-10-01: service messages and utility templates inside the customer-service
 *   window are billed per message too; only free entry points stay free.
 */
export type PricingRegime = 'CBP' | 'PMP_2025' | 'PMP_2026';

export const PRICING_REGIMES: readonly { regime: PricingRegime; effectiveFrom: string; fromMs: number }[] = [
  { regime: 'CBP', effectiveFrom: '1970-01-01', fromMs: 0 },
  { regime: 'PMP_2025', effectiveFrom: '2025-07-01', fromMs: Date.parse('2025-07-01T00:00:00Z') },
  { regime: 'PMP_2026', effectiveFrom: '2026-10-01', fromMs: Date.parse('2026-10-01T00:00:00Z') },
];

/** The rule set in force at an instant. */
export function regimeAt(ms: number): PricingRegime {
  for (let i = PRICING_REGIMES.length - 1; i > 0; i--) if (ms >= PRICING_REGIMES[i]!.fromMs) return PRICING_REGIMES[i]!.regime;
  return 'CBP';
}

/**
 * Whether a per-message pricing `type` is free under the regime in force. `free_entry_point` is free
 * under every per-message regime; `free_customer_service` only until 2026-09-30 (from 2026-10-01 the
 * messages it covered, service and in-window utility, are billed).
 */
export function isFreeUnder(regime: PricingRegime, type: string): boolean {
  if (type === 'regular') return false;
  if (type === 'free_customer_service') return regime !== 'PMP_2026';
  return true;
}
