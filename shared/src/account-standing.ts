/**
 * A business account's standing with Meta, from `account_update` webhooks: bans (DISABLED_UPDATE with
 * `ban_info`), restrictions (ACCOUNT_RESTRICTION with `restriction_info`), policy violations
 * (ACCOUNT_VIOLATION) and deletion (ACCOUNT_DELETED). The webhook service stores it per business
 * account (Redis JSON, one facet per kind, each applied only when newer); the dispatcher decides
 * from it what it may still send.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
 */

/** `restriction_info[].restriction_type` values Meta documents. */
export const RESTRICTION = {
  /** No messages to people outside a customer service window (business-initiated). */
  businessInitiated: 'RESTRICTED_BIZ_INITIATED_MESSAGING',
  /** No replies to people who wrote (inside the customer service window). */
  customerInitiated: 'RESTRICTED_CUSTOMER_INITIATED_MESSAGING',
  /** No new phone numbers: does not affect sending. */
  addPhoneNumber: 'RESTRICTED_ADD_PHONE_NUMBER_ACTION',
} as const;

export interface StandingFacetBase {
  /** Meta's event name (DISABLED_UPDATE, ACCOUNT_RESTRICTION, …). */
  event: string;
  /** When Meta reported it (ISO): a facet is replaced only by a newer one. */
  updatedAt: string;
}

export interface AccountStanding {
  /** `waba_ban_state`: DISABLE (banned), SCHEDULE_FOR_DISABLE (warned), REINSTATE (lifted). */
  ban?: StandingFacetBase & { state: string; date?: string };
  /** Restrictions in force, each until its expiration (absent: until Meta lifts it). An empty list lifts them. */
  restriction?: StandingFacetBase & { items: { type: string; expiresAtMs?: number }[] };
  violation?: StandingFacetBase & { type: string };
  deleted?: StandingFacetBase;
}

export type StandingFacet = keyof AccountStanding;

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Meta sends `expiration` as Unix seconds; some integrations show ISO text. */
function expiryMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e12 ? v * 1000 : v;
  if (typeof v === 'string' && v !== '') {
    if (/^\d+$/.test(v)) return expiryMs(Number(v));
    const ms = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** The standing facet an `account_update` value carries, or undefined (volume tiers, partner events, …). */
export function standingFacetOf(value: unknown, updatedAt: string): { facet: StandingFacet; value: NonNullable<AccountStanding[StandingFacet]> } | undefined {
  const v = obj(value);
  const event = str(v?.event)?.toUpperCase();
  if (v === undefined || event === undefined) return undefined;
  switch (event) {
    case 'DISABLED_UPDATE': {
      const ban = obj(v.ban_info);
      const state = str(ban?.waba_ban_state)?.toUpperCase();
      if (state === undefined) return undefined;
      const date = str(ban?.waba_ban_date);
      return { facet: 'ban', value: { event, updatedAt, state, ...(date !== undefined ? { date } : {}) } };
    }
    case 'ACCOUNT_RESTRICTION': {
      const raw = Array.isArray(v.restriction_info) ? v.restriction_info : obj(v.restriction_info) ? [v.restriction_info] : [];
      const items: { type: string; expiresAtMs?: number }[] = [];
      for (const r of raw) {
        const type = str(obj(r)?.restriction_type)?.toUpperCase();
        if (type === undefined) continue;
        const expiresAtMs = expiryMs(obj(r)?.expiration);
        items.push(expiresAtMs !== undefined ? { type, expiresAtMs } : { type });
      }
      return { facet: 'restriction', value: { event, updatedAt, items } };
    }
    case 'ACCOUNT_VIOLATION':
      return { facet: 'violation', value: { event, updatedAt, type: str(obj(v.violation_info)?.violation_type) ?? 'UNKNOWN' } };
    case 'ACCOUNT_DELETED':
      return { facet: 'deleted', value: { event, updatedAt } };
    default:
      return undefined;
  }
}

/** What the account's standing stops, at an instant. */
export interface StandingBlocks {
  /** Banned or deleted: nothing may be sent. */
  all: boolean;
  businessInitiated: boolean;
  customerInitiated: boolean;
}

export function standingBlocks(standing: AccountStanding | undefined, nowMs: number): StandingBlocks {
  const out: StandingBlocks = { all: false, businessInitiated: false, customerInitiated: false };
  if (standing === undefined) return out;
  out.all = standing.ban?.state === 'DISABLE' || standing.deleted !== undefined;
  for (const r of standing.restriction?.items ?? []) {
    if (r.expiresAtMs !== undefined && r.expiresAtMs <= nowMs) continue;
    if (r.type === RESTRICTION.businessInitiated) out.businessInitiated = true;
    if (r.type === RESTRICTION.customerInitiated) out.customerInitiated = true;
  }
  return out;
}

/**
 * Why a send is held, or undefined when the standing allows it: `account_banned` (banned or
 * deleted), `account_restricted` (the kind of messaging this send is, business- or
 * customer-initiated, is restricted).
 */
export function standingHold(
  standing: AccountStanding | undefined,
  nowMs: number,
  businessInitiated: boolean,
): 'account_banned' | 'account_restricted' | undefined {
  const b = standingBlocks(standing, nowMs);
  if (b.all) return 'account_banned';
  if (businessInitiated ? b.businessInitiated : b.customerInitiated) return 'account_restricted';
  return undefined;
}
