import { describe, expect, it } from 'vitest';
import { chargeFor, type PricedStatus } from '../../src/domain/cost';
import { isFreeUnder, regimeAt } from '../../src/domain/pricing-rules';
import { createRateCard, parseRateCardCsv } from '../../src/domain/rate-card';

// Rules per Meta's pricing page:
// https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
// From 2026-10-01 service messages and utility templates inside the customer-service window are billed
// per message; free entry points stay free.
const CARD = createRateCard(
  parseRateCardCsv(`country,category,pricing_model,effective_from,usd_rate,volume_tier_from,source
IN,utility,CBP,2024-01-01,0.0030,0,t
IN,utility,PMP,2025-07-01,0.0014,0,t
IN,service,PMP,2026-10-01,0.0014,0,t
IN,marketing,PMP,2025-07-01,0.0118,0,t
`),
);
const at = (iso: string) => Date.parse(iso);
const status = (over: Partial<PricedStatus>): PricedStatus => ({ wamid: 'w', status: 'delivered', statusAtMs: 0, country: 'IN', ...over });
const pmp = (category: string, type: string) => ({ pricingModel: 'PMP', category, type });

describe('pricing rule sets by effective date', () => {
  it('switches regime at each UTC boundary', () => {
    expect(regimeAt(at('2025-06-30T23:59:59.999Z'))).toBe('CBP');
    expect(regimeAt(at('2025-07-01T00:00:00Z'))).toBe('PMP_2025');
    expect(regimeAt(at('2026-09-30T23:59:59.999Z'))).toBe('PMP_2025');
    expect(regimeAt(at('2026-10-01T00:00:00Z'))).toBe('PMP_2026');
  });

  it('free_customer_service is free only until 2026-09-30; free_entry_point always; regular never', () => {
    expect(isFreeUnder('PMP_2025', 'free_customer_service')).toBe(true);
    expect(isFreeUnder('PMP_2026', 'free_customer_service')).toBe(false);
    expect(isFreeUnder('PMP_2025', 'free_entry_point')).toBe(true);
    expect(isFreeUnder('PMP_2026', 'free_entry_point')).toBe(true);
    expect(isFreeUnder('PMP_2026', 'regular')).toBe(false);
  });
});

describe('cost engine on both sides of 2026-10-01', () => {
  const before = at('2026-09-30T23:59:59Z');
  const after = at('2026-10-01T00:00:01Z');

  it('in-window utility: free before, billed after', () => {
    const b = chargeFor(status({ wamid: 'u1', statusAtMs: before, pricing: pmp('utility', 'free_customer_service') }), CARD)!;
    expect(b).toMatchObject({ regime: 'PMP_2025', billable: false, freeType: 'free_customer_service', costMicros: 0 });
    const a = chargeFor(status({ wamid: 'u2', statusAtMs: after, pricing: pmp('utility', 'regular') }), CARD)!;
    expect(a).toMatchObject({ regime: 'PMP_2026', billable: true, freeType: '', costMicros: 1_400 });
    // A stale emitter still labelling it free_customer_service after the change is billed by the rules in force.
    const stale = chargeFor(status({ wamid: 'u3', statusAtMs: after, pricing: pmp('utility', 'free_customer_service') }), CARD)!;
    expect(stale).toMatchObject({ regime: 'PMP_2026', billable: true, costMicros: 1_400, unpriced: false });
  });

  it('service (non-template) messages: free before, billed after', () => {
    const b = chargeFor(status({ wamid: 's1', statusAtMs: before, pricing: pmp('service', 'free_customer_service') }), CARD)!;
    expect(b).toMatchObject({ billable: false, costMicros: 0 });
    const a = chargeFor(status({ wamid: 's2', statusAtMs: after, pricing: pmp('service', 'regular') }), CARD)!;
    expect(a).toMatchObject({ regime: 'PMP_2026', billable: true, category: 'service', costMicros: 1_400, rateEffectiveFrom: '2026-10-01' });
  });

  it('free entry points stay free after 2026-10-01; marketing is billed on both sides', () => {
    expect(chargeFor(status({ statusAtMs: after, pricing: pmp('referral_conversion', 'free_entry_point') }), CARD)).toMatchObject({
      billable: false,
      costMicros: 0,
    });
    expect(chargeFor(status({ statusAtMs: before, pricing: pmp('marketing', 'regular') }), CARD)?.costMicros).toBe(11_800);
    expect(chargeFor(status({ statusAtMs: after, pricing: pmp('marketing', 'regular') }), CARD)?.costMicros).toBe(11_800);
  });

  it('conversation-based charges before 2025-07-01 keep the CBP regime', () => {
    const c = chargeFor(
      status({ statusAtMs: at('2025-06-30T12:00:00Z'), pricing: { pricingModel: 'CBP', category: 'utility' }, conversation: { id: 'c1' } }),
      CARD,
    )!;
    expect(c).toMatchObject({ regime: 'CBP', costMicros: 3_000 });
  });
});
