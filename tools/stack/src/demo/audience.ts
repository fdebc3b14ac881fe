import { normalisePhone } from '@wa/shared';

/** A tiny deterministic PRNG (mulberry32): the same seed gives the same demo audience. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mobile number shapes by market: prefix and how many random digits follow. */
const MARKETS: ReadonlyArray<{ country: string; prefix: string; digits: number; weight: number }> = [
  { country: 'IN', prefix: '+9198', digits: 8, weight: 0.3 },
  { country: 'BR', prefix: '+55119', digits: 8, weight: 0.2 },
  { country: 'MX', prefix: '+5255', digits: 8, weight: 0.15 },
  { country: 'ID', prefix: '+62812', digits: 8, weight: 0.1 },
  { country: 'GB', prefix: '+447400', digits: 6, weight: 0.1 },
  { country: 'DE', prefix: '+49151', digits: 8, weight: 0.1 },
  { country: 'US', prefix: '+1415', digits: 7, weight: 0.05 },
];

export interface AudienceRow {
  phone: string;
  name: string;
}

export interface GeneratedAudience {
  rows: AudienceRow[];
  /** Distinct valid numbers (E.164 digits): the messages the broadcast should produce. */
  validDistinct: Set<string>;
  invalid: number;
  duplicates: number;
}

/**
 * Generates a demo audience: valid mobile numbers across several markets, a share of invalid
 * entries (to show per-recipient dead-lettering) and of duplicates (to show dedupe).
 */
export function generateAudience(options: { size: number; seed: number; invalidFraction: number; duplicateFraction: number }): GeneratedAudience {
  const random = seededRandom(options.seed);
  const rows: AudienceRow[] = [];
  const validDistinct = new Set<string>();
  let invalid = 0;
  let duplicates = 0;
  while (rows.length < options.size) {
    const roll = random();
    if (roll < options.invalidFraction) {
      rows.push({ phone: random() < 0.5 ? `+44 12${Math.floor(random() * 100)}` : 'call-me-maybe', name: 'Invalid' });
      invalid += 1;
      continue;
    }
    if (roll < options.invalidFraction + options.duplicateFraction && rows.length > 0) {
      const earlier = rows[Math.floor(random() * rows.length)]!;
      if (validDistinct.has(normalise(earlier.phone) ?? '')) {
        rows.push({ ...earlier });
        duplicates += 1;
        continue;
      }
    }
    const market = pickMarket(random());
    let digits = '';
    for (let i = 0; i < market.digits; i++) digits += Math.floor(random() * 10);
    const phone = market.prefix + digits;
    const waId = normalise(phone);
    if (!waId || validDistinct.has(waId)) continue;
    validDistinct.add(waId);
    rows.push({ phone, name: `Customer ${rows.length + 1}` });
  }
  return { rows, validDistinct, invalid, duplicates };
}

function normalise(phone: string): string | undefined {
  const r = normalisePhone(phone);
  return r.ok ? r.waId : undefined;
}

function pickMarket(roll: number) {
  let acc = 0;
  for (const m of MARKETS) {
    acc += m.weight;
    if (roll < acc) return m;
  }
  return MARKETS[MARKETS.length - 1]!;
}

/** CSV with a header row, as finance and CRM exports produce it. */
export function toCsv(rows: readonly AudienceRow[]): string {
  return `phone,name\n${rows.map((r) => `${r.phone},${r.name}`).join('\n')}\n`;
}
