import type { MessagingLimit } from './scenario';
import { tierLabel, type PhoneState } from './world';

/**
 * Phone-number facts as Meta shapes them: the phone_number_quality_update webhook value and the
 * phone-number node's fields.
 *
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
 */

/** Default and "higher throughput" levels (Meta upgrades eligible numbers automatically to 1,000 msg/s). */
export const STANDARD_MPS = 80;
export const HIGH_MPS = 1_000;

/** Events that change the number's throughput level rather than the portfolio's messaging limit. */
export const THROUGHPUT_EVENTS = new Set(['THROUGHPUT_UPGRADE']);

/** Events of a messaging-limit change: Meta includes `old_limit` only for these. */
const LIMIT_CHANGE_EVENTS = new Set(['UPGRADE', 'DOWNGRADE', 'ONBOARDING']);

/**
 * The webhook value for one event, exactly the fields Meta documents: no phone-number id and no
 * messages-per-second figure. A throughput upgrade reports `current_limit: TIER_UNLIMITED` (Meta's
 * example) and nothing else; a messaging-limit change reports the old and new limits; FLAGGED /
 * UNFLAGGED report the current limit.
 */
export function qualityUpdateValue(phone: PhoneState, event: string, oldLimit: MessagingLimit, currentLimit: MessagingLimit): Record<string, string> {
  if (THROUGHPUT_EVENTS.has(event)) return { display_phone_number: phone.displayPhoneNumber, event, current_limit: 'TIER_UNLIMITED' };
  const value: Record<string, string> = { display_phone_number: phone.displayPhoneNumber, event };
  if (LIMIT_CHANGE_EVENTS.has(event)) value.old_limit = tierLabel(oldLimit);
  value.current_limit = tierLabel(currentLimit);
  value.max_daily_conversations_per_business = tierLabel(currentLimit);
  return value;
}

/**
 * `throughput.level` of the phone-number node. Meta has two levels, STANDARD (80 msg/s) and HIGH
 * (1,000; https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput).
 * A scenario may give a number another rate to exercise pacing; it reports the level that does not
 * promise more than the simulator enforces, so a client that believes the level is never throttled.
 */
export function throughputLevel(mps: number): 'STANDARD' | 'HIGH' {
  return mps >= HIGH_MPS ? 'HIGH' : 'STANDARD';
}

/** Quality rating Meta reports on a FLAGGED / UNFLAGGED event when the caller gave none. */
export function qualityAfter(event: string): 'GREEN' | 'RED' | undefined {
  if (event === 'FLAGGED') return 'RED';
  if (event === 'UNFLAGGED') return 'GREEN';
  return undefined;
}

/**
 * The phone-number node (GET /{phone-number-id}): only the requested `fields` plus `id`, like the
 * Graph API; without `fields`, the default set. `messaging_limit_tier` is deprecated in favour of
 * `whatsapp_business_manager_messaging_limit` (the portfolio's limit) but still answered.
 * https://developers.facebook.com/docs/whatsapp/messaging-limits
 */
export function phoneNumberNode(phone: PhoneState, fields: string | undefined): Record<string, unknown> {
  const limit = tierLabel(phone.waba.business.messagingLimit);
  const all: Record<string, unknown> = {
    verified_name: `Sim Business ${phone.waba.business.id}`,
    display_phone_number: phone.displayPhoneNumber,
    quality_rating: phone.quality,
    throughput: { level: throughputLevel(phone.throughputMps) },
    whatsapp_business_manager_messaging_limit: limit,
    messaging_limit_tier: limit,
    name_status: 'APPROVED',
    status: 'CONNECTED',
  };
  const wanted = fields
    ? fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : ['verified_name', 'display_phone_number', 'quality_rating', 'throughput', 'messaging_limit_tier'];
  const node: Record<string, unknown> = {};
  for (const f of wanted) if (f in all) node[f] = all[f];
  node.id = phone.id;
  return node;
}
