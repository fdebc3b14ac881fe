import type { AccountEventV1 } from '@wa/shared/contracts/events';

/**
 * Meta's `account_update` event `VOLUME_BASED_PRICING_TIER_UPDATE`: a business moved to a new
 * volume tier for one pricing category in one market during a month. `volume_tier_info` carries
 * `tier` ("25001:100000", the range of the month's messages the tier covers), `pricing_category`
 * (UTILITY, AUTHENTICATION), `region` (the market, e.g. "India"), `effective_month` ("2026-10") and
 * `tier_update_time` (Unix seconds, when the business reached the tier).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
 */
export const VOLUME_TIER_EVENT = 'VOLUME_BASED_PRICING_TIER_UPDATE';

/**
 * Meta's single-country pricing markets by the name its region field uses, as ISO codes: the rate
 * card prices by country. Multi-country markets (North America, Rest of Africa, …) have no single
 * country and are recorded without a market, so finance keeps counting the tier for them.
 */
const MARKET_BY_REGION: Record<string, string> = {
  ARGENTINA: 'AR',
  BRAZIL: 'BR',
  CHILE: 'CL',
  COLOMBIA: 'CO',
  EGYPT: 'EG',
  FRANCE: 'FR',
  GERMANY: 'DE',
  INDIA: 'IN',
  INDONESIA: 'ID',
  ISRAEL: 'IL',
  ITALY: 'IT',
  MALAYSIA: 'MY',
  MEXICO: 'MX',
  NETHERLANDS: 'NL',
  NIGERIA: 'NG',
  PAKISTAN: 'PK',
  PERU: 'PE',
  RUSSIA: 'RU',
  SAUDI_ARABIA: 'SA',
  SOUTH_AFRICA: 'ZA',
  SPAIN: 'ES',
  TURKEY: 'TR',
  UNITED_ARAB_EMIRATES: 'AE',
  UNITED_KINGDOM: 'GB',
};

/** The rate card's market (ISO alpha-2) for Meta's region: "India", "INDIA" and "IN" are IN; '' when it names no single country. */
export function marketOfRegion(region: string): string {
  const key = region
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (/^[A-Z]{2}$/.test(key)) return key;
  return MARKET_BY_REGION[key] ?? '';
}

/**
 * Meta's tier "25001:100000" as the first message of the month it covers (25001) and the last (100000;
 * 0 when open-ended, e.g. "100000001:"). The rate card's `volume_tier_from` of that tier is first − 1.
 */
export function parseTier(tier: string): { first: number; last: number } | undefined {
  const m = /^(\d{1,15}):(\d{0,15})$/.exec(tier.replace(/\s/g, ''));
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = m[2] ? Number(m[2]) : 0;
  if (first < 1 || (last !== 0 && last < first)) return undefined;
  return { first, last };
}

export type VolumeTierRow = NonNullable<ReturnType<typeof volumeTierRow>>;

/**
 * The `volume_tiers` row for an account event, or undefined when the event is not a tier update or
 * lacks what finance needs (a parsable tier, a category, a YYYY-MM month, an update time).
 */
export function volumeTierRow(e: AccountEventV1) {
  if (e.event !== VOLUME_TIER_EVENT) return undefined;
  const info = (e.value as { volume_tier_info?: unknown } | null)?.volume_tier_info;
  if (typeof info !== 'object' || info === null) return undefined;
  const v = info as Record<string, unknown>;
  const tier = typeof v.tier === 'string' ? v.tier : '';
  const parsed = parseTier(tier);
  const category = typeof v.pricing_category === 'string' ? v.pricing_category.trim().toLowerCase() : '';
  const month = typeof v.effective_month === 'string' ? v.effective_month.trim() : '';
  const updatedS = typeof v.tier_update_time === 'number' ? v.tier_update_time : typeof v.tier_update_time === 'string' ? Number(v.tier_update_time) : NaN;
  // Migration 009 maps the announcements recorded before 008 in SQL, the same way.
  const region = typeof v.region === 'string' ? v.region.trim().slice(0, 100) : '';
  if (!parsed || !/^[a-z_]{1,40}$/.test(category) || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month) || !Number.isFinite(updatedS) || updatedS <= 0) return undefined;
  return {
    event_id: e.eventId,
    waba_id: e.wabaId,
    region,
    market: marketOfRegion(region),
    category,
    effective_month: `${month}-01`,
    tier: tier.replace(/\s/g, ''),
    tier_first: parsed.first,
    tier_update_time: new Date(Math.floor(updatedS) * 1000).toISOString(),
    received_at: e.receivedAt,
  };
}
