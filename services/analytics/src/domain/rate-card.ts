import { parse } from 'csv-parse/sync';
import { parseUsdToMicros } from './money';

export type PricingModel = 'CBP' | 'PMP';
export const PRICING_MODELS: readonly PricingModel[] = ['CBP', 'PMP'];

/** One rate: the price of one unit (a conversation under CBP, a message under PMP) from a date on. */
export interface RateRow {
  country: string;
  category: string;
  pricingModel: PricingModel;
  /** First UTC day the rate applies, `YYYY-MM-DD`; it applies until the next row of the same key. */
  effectiveFrom: string;
  rateMicros: number;
  /** Monthly volume from which this (lower) rate applies; 0 is the base rate. */
  volumeTierFrom: number;
  source: string;
}

export const REST_OF_WORLD = 'ZZ';

const HEADER = ['country', 'category', 'pricing_model', 'effective_from', 'usd_rate', 'volume_tier_from', 'source'] as const;

export class RateCardParseError extends Error {
  override readonly name = 'RateCardParseError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid rate card:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Parses a rate card CSV. Lines starting with `#` are comments (the sample card says there that it
 * is sample data). Columns, in any order: country, category, pricing_model, effective_from, usd_rate,
 * and optionally volume_tier_from and source. Every bad line is reported at once.
 */
export function parseRateCardCsv(text: string, defaultSource = 'loaded'): RateRow[] {
  // RFC 4180 (quoted cells may hold commas), `#` comment lines, blank lines skipped; line numbers for errors.
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      bom: true,
      info: true,
    }) as unknown as typeof records;
  } catch (err) {
    throw new RateCardParseError([(err as Error).message]);
  }
  const head = records.shift();
  if (!head) throw new RateCardParseError(['the file has no header line']);
  const cols = head.record.map((c) => c.toLowerCase());
  const problems: string[] = [];
  for (const required of HEADER.slice(0, 5)) if (!cols.includes(required)) problems.push(`header lacks column "${required}"`);
  if (problems.length > 0) throw new RateCardParseError(problems);
  const idx = (name: string) => cols.indexOf(name);
  const rows: RateRow[] = [];
  for (const { record: cells, info } of records) {
    const no = info.lines;
    const cell = (name: string) => (idx(name) >= 0 ? (cells[idx(name)] ?? '') : '');
    const country = cell('country').toUpperCase();
    const category = cell('category').toLowerCase();
    const model = cell('pricing_model').toUpperCase();
    const from = cell('effective_from');
    const tier = cell('volume_tier_from') || '0';
    const bad: string[] = [];
    if (!/^[A-Z]{2}$/.test(country)) bad.push(`country "${country}" is not an ISO alpha-2 code (ZZ = rest of world)`);
    if (!/^[a-z_]{1,40}$/.test(category)) bad.push(`category "${category}" is not a category name`);
    if (model !== 'CBP' && model !== 'PMP') bad.push(`pricing_model "${model}" is not CBP or PMP`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(Date.parse(`${from}T00:00:00Z`))) bad.push(`effective_from "${from}" is not YYYY-MM-DD`);
    if (!/^\d+$/.test(tier)) bad.push(`volume_tier_from "${tier}" is not a whole number`);
    let rateMicros = 0;
    try {
      rateMicros = parseUsdToMicros(cell('usd_rate'));
    } catch (err) {
      bad.push((err as Error).message);
    }
    if (bad.length > 0) {
      problems.push(`line ${no}: ${bad.join('; ')}`);
      continue;
    }
    rows.push({
      country,
      category,
      pricingModel: model as PricingModel,
      effectiveFrom: from,
      rateMicros,
      volumeTierFrom: Number(tier),
      source: cell('source') || defaultSource,
    });
  }
  if (problems.length > 0) throw new RateCardParseError(problems);
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.country}|${r.category}|${r.pricingModel}|${r.effectiveFrom}|${r.volumeTierFrom}`;
    if (seen.has(key)) problems.push(`duplicate rate for ${key.replaceAll('|', ' ')}`);
    seen.add(key);
  }
  if (problems.length > 0) throw new RateCardParseError(problems);
  return rows;
}

export interface RateQuote {
  rateMicros: number;
  effectiveFrom: string;
  /** The market row used: the country itself, or ZZ (rest of world) when the card has no row for it. */
  market: string;
}

/**
 * The rate card in force at a time: for (country, category, model) the base-tier row with the latest
 * `effective_from` not after the event's UTC day; a country the card does not list falls back to ZZ.
 */
export interface RateCard {
  lookup(country: string, category: string, model: PricingModel, atMs: number): RateQuote | undefined;
  readonly size: number;
}

export function createRateCard(rows: readonly RateRow[]): RateCard {
  const byKey = new Map<string, { fromMs: number; row: RateRow }[]>();
  for (const row of rows) {
    if (row.volumeTierFrom !== 0) continue;
    const key = `${row.country}|${row.category}|${row.pricingModel}`;
    const list = byKey.get(key) ?? [];
    list.push({ fromMs: Date.parse(`${row.effectiveFrom}T00:00:00Z`), row });
    byKey.set(key, list);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.fromMs - b.fromMs);
  const find = (country: string, category: string, model: PricingModel, atMs: number): RateQuote | undefined => {
    const list = byKey.get(`${country}|${category}|${model}`);
    if (!list) return undefined;
    let hit: RateRow | undefined;
    for (const entry of list) {
      if (entry.fromMs <= atMs) hit = entry.row;
      else break;
    }
    return hit && { rateMicros: hit.rateMicros, effectiveFrom: hit.effectiveFrom, market: country };
  };
  // Rates change by day, so a quote is memoised per (market, category, model, UTC day): the hot path
  // of pricing millions of statuses is one Map lookup.
  const DAY_MS = 86_400_000;
  const memo = new Map<string, RateQuote | null>();
  return {
    size: rows.length,
    lookup(country, category, model, atMs) {
      const key = `${country}|${category}|${model}|${Math.floor(atMs / DAY_MS)}`;
      let quote = memo.get(key);
      if (quote === undefined) {
        quote = find(country, category, model, atMs) ?? (country === REST_OF_WORLD ? undefined : find(REST_OF_WORLD, category, model, atMs)) ?? null;
        if (memo.size >= 100_000) memo.clear();
        memo.set(key, quote);
      }
      return quote ?? undefined;
    },
  };
}
