/**
 * Messaging limits (TIER_50 … TIER_UNLIMITED as Meta labels them): unique business-initiated recipients per rolling 24 h. Since 2025-10-07 the
 * limit belongs to the business portfolio and is shared by all its phone numbers. `null` = unlimited.
 */
export const MESSAGING_LIMIT_TIERS = [50, 250, 2_000, 10_000, 100_000, null] as const;
export type MessagingLimit = (typeof MESSAGING_LIMIT_TIERS)[number];

const TIER_NAMES: Record<string, MessagingLimit> = {
  TIER_50: 50,
  TIER_250: 250,
  TIER_1K: 2_000, // legacy name of the 1K tier; Meta raised the floor tier to 2K in 2025
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: null,
  UNLIMITED: null,
};

/**
 * Parses the limit as Meta reports it in `business_capability_update` / quality webhooks: a tier
 * name (`TIER_10K`), a number (`max_daily_conversations_per_business: 10000`) or "unlimited".
 * Returns `undefined` when the value is not recognisable.
 */
export function parseMessagingLimit(value: unknown): MessagingLimit | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return normaliseLimit(value);
  if (typeof value !== 'string') return undefined;
  const upper = value.trim().toUpperCase();
  if (upper in TIER_NAMES) return TIER_NAMES[upper];
  if (/^\d+$/.test(upper)) return normaliseLimit(Number(upper));
  return undefined;
}

function normaliseLimit(n: number): MessagingLimit | undefined {
  if (n < 0) return null;
  return (MESSAGING_LIMIT_TIERS as readonly (number | null)[]).includes(n) ? (n as MessagingLimit) : undefined;
}

/** Default and ceiling throughput of a Cloud API phone number, in messages per second. */
export const DEFAULT_THROUGHPUT_MPS = 80;
export const MAX_THROUGHPUT_MPS = 1_000;
