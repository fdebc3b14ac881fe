import { describe, expect, it } from 'vitest';
import { chargeFor, totalCostMicros, type PricedStatus } from '../../src/domain/cost';
import { formatMicros, parseUsdToMicros } from '../../src/domain/money';
import { createRateCard, parseRateCardCsv, RateCardParseError } from '../../src/domain/rate-card';

const CARD = createRateCard(
  parseRateCardCsv(`# test card
country,category,pricing_model,effective_from,usd_rate,volume_tier_from,source
IN,utility,CBP,2024-01-01,0.0030,0,t
IN,marketing,CBP,2024-01-01,0.0107,0,t
MX,marketing,CBP,2024-01-01,0.0625,0,t
MX,marketing,CBP,2025-03-01,0.0600,0,t
ZZ,marketing,CBP,2024-01-01,0.0450,0,t
IN,marketing,PMP,2025-07-01,0.0118,0,t
IN,utility,PMP,2025-07-01,0.0014,0,t
MX,marketing,PMP,2025-07-01,0.0436,0,t
MX,marketing,PMP,2026-10-01,0.0457,0,t
IN,utility,PMP,2025-07-01,0.0010,1000000,t
`),
);
const at = (iso: string) => Date.parse(iso);

describe('rate card', () => {
  it('picks the card in force at the event time, by effective date', () => {
    expect(CARD.lookup('MX', 'marketing', 'CBP', at('2025-02-28T23:59:59Z'))?.rateMicros).toBe(62_500);
    expect(CARD.lookup('MX', 'marketing', 'CBP', at('2025-03-01T00:00:00Z'))?.rateMicros).toBe(60_000);
    expect(CARD.lookup('MX', 'marketing', 'PMP', at('2026-09-30T23:59:59.999Z'))?.rateMicros).toBe(43_600);
    expect(CARD.lookup('MX', 'marketing', 'PMP', at('2026-10-01T00:00:00Z'))).toEqual({ rateMicros: 45_700, effectiveFrom: '2026-10-01', market: 'MX' });
  });

  it('has no rate before a model starts, falls back to ZZ for unlisted markets, ignores volume tiers above the base', () => {
    expect(CARD.lookup('IN', 'marketing', 'PMP', at('2025-06-30T23:00:00Z'))).toBeUndefined();
    expect(CARD.lookup('FR', 'marketing', 'CBP', at('2025-01-01T00:00:00Z'))?.rateMicros).toBe(45_000);
    expect(CARD.lookup('FR', 'utility', 'CBP', at('2025-01-01T00:00:00Z'))).toBeUndefined();
    expect(CARD.lookup('IN', 'utility', 'PMP', at('2025-08-01T00:00:00Z'))?.rateMicros).toBe(1_400);
  });

  it('reports every bad line of a CSV at once', () => {
    const bad = 'country,category,pricing_model,effective_from,usd_rate\nIND,utility,CBP,2024-01-01,0.003\nIN,utility,XYZ,2024-13-01,0.0000001\n';
    try {
      parseRateCardCsv(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RateCardParseError);
      const problems = (err as RateCardParseError).problems;
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^line 2: country/);
      expect(problems[1]).toMatch(/pricing_model.*effective_from.*more than 6 decimals/);
    }
  });

  it('reads RFC 4180 quoting (a comma inside a quoted source) and numbers lines past comments', () => {
    const csv =
      '# sample\ncountry,category,pricing_model,effective_from,usd_rate,volume_tier_from,source\n# a comment line\nIN,utility,CBP,2024-01-01,0.003,0,"Meta, rate card 2024"\nIN,utility,CBP,2024-13-01,0.003,0,x\n';
    try {
      parseRateCardCsv(csv);
      expect.unreachable();
    } catch (err) {
      expect((err as RateCardParseError).problems).toEqual([expect.stringMatching(/^line 5: effective_from/)]);
    }
    const [row] = parseRateCardCsv(csv.split('\n').slice(0, 4).join('\n'));
    expect(row).toMatchObject({ country: 'IN', rateMicros: 3_000, source: 'Meta, rate card 2024' });
  });

  it('rejects duplicate keys and a missing column', () => {
    expect(() => parseRateCardCsv('country,category,pricing_model,effective_from\n')).toThrow(/usd_rate/);
    expect(() =>
      parseRateCardCsv('country,category,pricing_model,effective_from,usd_rate\nIN,utility,CBP,2024-01-01,0.003\nIN,utility,CBP,2024-01-01,0.004\n'),
    ).toThrow(/duplicate/);
  });
});

describe('money', () => {
  it('parses USD decimals to exact micro-dollars and back', () => {
    expect(parseUsdToMicros('0.0625')).toBe(62_500);
    expect(parseUsdToMicros('0.003')).toBe(3_000);
    expect(parseUsdToMicros('12')).toBe(12_000_000);
    expect(parseUsdToMicros('.5')).toBe(500_000);
    expect(() => parseUsdToMicros('0.0000001')).toThrow(RangeError);
    expect(() => parseUsdToMicros('-1')).toThrow(RangeError);
    expect(formatMicros(62_500)).toBe('0.062500');
    expect(formatMicros(1_234_567_890)).toBe('1234.567890');
  });
});

function status(over: Partial<PricedStatus> & Pick<PricedStatus, 'wamid'>): PricedStatus {
  return { status: 'delivered', statusAtMs: at('2025-01-10T10:00:00Z'), country: 'IN', ...over };
}

describe('cost: conversation-based pricing', () => {
  const cbp = (category: string, extra: Partial<NonNullable<PricedStatus['pricing']>> = {}) => ({ pricingModel: 'CBP', category, billable: true, ...extra });

  it('charges once per billable conversation at the rate in force when it started', () => {
    // Conversation c1 (MX marketing) started 2025-02-28 20:00 (expires 2025-03-01 20:00): old rate 0.0625
    // even though its statuses arrive after the 2025-03-01 card change.
    const conv = { id: 'c1', expiresAtMs: at('2025-03-01T20:00:00Z') };
    const events = [
      status({ wamid: 'm1', country: 'MX', statusAtMs: at('2025-03-01T08:00:00Z'), pricing: cbp('marketing'), conversation: conv }),
      status({ wamid: 'm2', country: 'MX', status: 'read', statusAtMs: at('2025-03-01T09:00:00Z'), pricing: cbp('marketing'), conversation: conv }),
      status({ wamid: 'm3', country: 'MX', statusAtMs: at('2025-03-01T10:00:00Z'), pricing: cbp('marketing'), conversation: conv }),
    ];
    const charges = events.map((e) => ({ ...chargeFor(e, CARD)!, eventAtMs: e.statusAtMs }));
    expect(new Set(charges.map((c) => c.chargeKey))).toEqual(new Set(['CBP:c1']));
    expect(charges.every((c) => c.costMicros === 62_500 && c.rateEffectiveFrom === '2024-01-01')).toBe(true);
    // A conversation started after the change pays the new rate.
    const later = chargeFor(
      status({ wamid: 'm4', country: 'MX', pricing: cbp('marketing'), conversation: { id: 'c2', expiresAtMs: at('2025-03-02T12:00:00Z') } }),
      CARD,
    )!;
    expect(later.costMicros).toBe(60_000);
    // 0.0625 (c1) + 0.0600 (c2) + 0.0030 (IN utility c3) + 0 (service) = 0.1255 USD
    const c3 = status({ wamid: 'm5', pricing: cbp('utility'), conversation: { id: 'c3', expiresAtMs: at('2025-01-11T00:00:00Z') } });
    const free = status({ wamid: 'm6', pricing: cbp('service', { billable: false }), conversation: { id: 'c4' } });
    const all = [...charges, { ...later, eventAtMs: 1 }, { ...chargeFor(c3, CARD)!, eventAtMs: 1 }, { ...chargeFor(free, CARD)!, eventAtMs: 1 }];
    expect(totalCostMicros(all)).toBe(125_500);
  });

  it('records a non-billable conversation at zero and a missing rate as unpriced', () => {
    const free = chargeFor(status({ wamid: 'm', pricing: cbp('service', { billable: false }), conversation: { id: 'c9' } }), CARD)!;
    expect(free).toMatchObject({ billable: false, freeType: 'not_billable', costMicros: 0, unpriced: false });
    const unknown = chargeFor(status({ wamid: 'm', country: 'FR', pricing: cbp('utility'), conversation: { id: 'c10' } }), CARD)!;
    expect(unknown).toMatchObject({ billable: true, costMicros: 0, unpriced: true });
  });

  it('does not charge sent or failed statuses, or events without pricing', () => {
    expect(chargeFor(status({ wamid: 'm', status: 'sent', pricing: cbp('utility'), conversation: { id: 'c' } }), CARD)).toBeNull();
    expect(chargeFor(status({ wamid: 'm', status: 'failed', pricing: cbp('utility'), conversation: { id: 'c' } }), CARD)).toBeNull();
    expect(chargeFor(status({ wamid: 'm' }), CARD)).toBeNull();
  });
});

describe('cost: per-message pricing', () => {
  const pmp = (category: string, type?: string, billable?: boolean) => ({ pricingModel: 'PMP', category, type, billable });
  const d = at('2025-08-05T12:00:00Z');

  it('charges each billable message once and records free types at zero', () => {
    const events = [
      status({ wamid: 'a', statusAtMs: d, pricing: pmp('marketing', 'regular') }), // IN marketing 0.0118
      status({ wamid: 'a', status: 'read', statusAtMs: d + 60_000, pricing: pmp('marketing', 'regular') }), // same message
      status({ wamid: 'b', statusAtMs: d, pricing: pmp('utility', 'regular') }), // IN utility 0.0014
      status({ wamid: 'c', statusAtMs: d, pricing: pmp('utility', 'free_customer_service') }), // 0
      status({ wamid: 'e', statusAtMs: d, pricing: pmp('marketing', 'free_entry_point') }), // 0
      status({ wamid: 'f', country: 'MX', statusAtMs: d, pricing: pmp('marketing', undefined, true) }), // no type, billable → 0.0436
      status({ wamid: 'g', country: 'MX', statusAtMs: at('2026-10-01T00:00:01Z'), pricing: pmp('marketing', 'regular') }), // new card 0.0457
    ];
    const charges = events.map((e) => ({ ...chargeFor(e, CARD)!, eventAtMs: e.statusAtMs }));
    expect(charges.find((c) => c.chargeKey === 'PMP:c')).toMatchObject({ billable: false, freeType: 'free_customer_service', costMicros: 0 });
    expect(charges.find((c) => c.chargeKey === 'PMP:e')).toMatchObject({ billable: false, freeType: 'free_entry_point', costMicros: 0 });
    // 11,800 + 1,400 + 0 + 0 + 43,600 + 45,700 = 102,500 micro-dollars
    expect(totalCostMicros(charges)).toBe(102_500);
    // The same total whatever the arrival order and with duplicates.
    expect(totalCostMicros([...charges].reverse().concat(charges))).toBe(102_500);
  });

  it('prices a unit from its earliest event when its statuses straddle a card change', () => {
    const delivered = status({ wamid: 'x', country: 'MX', statusAtMs: at('2026-09-30T23:59:00Z'), pricing: pmp('marketing', 'regular') });
    const read = status({ wamid: 'x', country: 'MX', status: 'read', statusAtMs: at('2026-10-01T00:01:00Z'), pricing: pmp('marketing', 'regular') });
    const rows = [read, delivered].map((e) => ({ ...chargeFor(e, CARD)!, eventAtMs: e.statusAtMs }));
    expect(totalCostMicros(rows)).toBe(43_600);
  });
});

// https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
describe('cost: the rules in force when the message was sent, across 2026-10-01', () => {
  const pmp = (category: string, type?: string) => ({ pricingModel: 'PMP', category, type });
  const sent = at('2026-09-30T23:59:50Z');
  const delivered = at('2026-10-01T00:00:05Z');

  it('a customer-service-window utility message sent on 2026-09-30 and delivered on 2026-10-01 is free (PMP_2025)', () => {
    const e = status({ wamid: 'u', country: 'IN', statusAtMs: delivered, sentAtMs: sent, pricing: pmp('utility', 'free_customer_service') });
    expect(chargeFor(e, CARD)).toMatchObject({ regime: 'PMP_2025', billable: false, freeType: 'free_customer_service', costMicros: 0, pricedAtMs: sent });
    // Without the send time it falls back to the status time: billed under PMP_2026.
    expect(chargeFor({ ...e, sentAtMs: undefined }, CARD)).toMatchObject({ regime: 'PMP_2026', billable: true, pricedAtMs: delivered });
  });

  it('a marketing message is priced at the rate card of its send, not its delivery; a send time after the status is ignored', () => {
    const e = status({ wamid: 'm', country: 'MX', statusAtMs: delivered, sentAtMs: sent, pricing: pmp('marketing', 'regular') });
    expect(chargeFor(e, CARD)).toMatchObject({ regime: 'PMP_2025', costMicros: 43_600, rateEffectiveFrom: '2025-07-01' });
    const sentAfter = at('2026-10-01T00:00:00Z');
    expect(chargeFor(status({ wamid: 'n', country: 'MX', statusAtMs: sent, sentAtMs: sentAfter, pricing: pmp('marketing', 'regular') }), CARD)).toMatchObject({
      pricedAtMs: sent,
      costMicros: 43_600,
    });
    // Sent after the boundary: the 2026 rules and card.
    expect(
      chargeFor(status({ wamid: 'o', country: 'MX', statusAtMs: delivered, sentAtMs: sentAfter, pricing: pmp('marketing', 'regular') }), CARD),
    ).toMatchObject({
      regime: 'PMP_2026',
      costMicros: 45_700,
    });
  });
});
