import { parseMessagingLimit } from '@wa/shared/tiers';

/**
 * A phone number's state as the Graph API reports it (GET /{phone-number-id}?fields=…), mapped to
 * what the dispatcher paces and gates with. Pure.
 *
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput — `throughput.level`
 *   STANDARD (80 msg/s) or HIGH (1,000 msg/s, "higher throughput").
 * https://developers.facebook.com/docs/whatsapp/messaging-limits — `whatsapp_business_manager_messaging_limit`
 *   (the portfolio's limit) replaces the deprecated `messaging_limit_tier`.
 */
export const PHONE_NUMBER_FIELDS = [
  'display_phone_number',
  'quality_rating',
  'throughput',
  'whatsapp_business_manager_messaging_limit',
  'messaging_limit_tier',
  'name_status',
  'status',
] as const;

export const STANDARD_MPS = 80;
export const HIGH_MPS = 1_000;
const QUALITY = new Set(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']);

export interface GraphPhoneState {
  throughputMps?: number;
  quality?: string;
  /** The portfolio's messaging limit; null = unlimited. */
  messagingLimit?: number | null;
  nameStatus?: string;
  status?: string;
  displayPhoneNumber?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * `configuredMps` is the catalogue's rate for the number: STANDARD keeps it (capped at 80 — a number
 * shared with the WhatsApp Business app has 20), HIGH is 1,000.
 */
export function graphPhoneState(body: unknown, configuredMps = STANDARD_MPS): GraphPhoneState {
  const out: GraphPhoneState = {};
  if (typeof body !== 'object' || body === null) return out;
  const b = body as Record<string, unknown>;
  const t = b.throughput;
  const level = typeof t === 'object' && t !== null ? str((t as Record<string, unknown>).level) : undefined;
  if (level?.toUpperCase() === 'HIGH') out.throughputMps = HIGH_MPS;
  else if (level?.toUpperCase() === 'STANDARD') out.throughputMps = Math.min(configuredMps, STANDARD_MPS);
  const q = str(b.quality_rating)?.toUpperCase();
  if (q !== undefined && QUALITY.has(q) && q !== 'UNKNOWN') out.quality = q;
  const limitRaw = b.whatsapp_business_manager_messaging_limit ?? b.messaging_limit_tier;
  const limit = parseMessagingLimit(
    typeof limitRaw === 'object' && limitRaw !== null
      ? ((limitRaw as Record<string, unknown>).current_limit ?? (limitRaw as Record<string, unknown>).tier)
      : limitRaw,
  );
  if (limit !== undefined) out.messagingLimit = limit;
  if (str(b.name_status) !== undefined) out.nameStatus = str(b.name_status);
  if (str(b.status) !== undefined) out.status = str(b.status);
  if (str(b.display_phone_number) !== undefined) out.displayPhoneNumber = str(b.display_phone_number);
  return out;
}
