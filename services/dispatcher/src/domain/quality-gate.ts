import type { MessageCategory } from '@wa/shared/contracts/common';

/**
 * Marketing on a number whose quality Meta rates low. A FLAGGED number (rating RED) that keeps
 * receiving negative feedback is downgraded and its templates paused; marketing is what draws the
 * feedback, so it is held (deferred, not failed) while utility and authentication keep going.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
 */
export type MarketingHoldQuality = 'RED' | 'YELLOW' | 'never';

const RANK: Record<string, number> = { GREEN: 0, YELLOW: 1, RED: 2 };

/** Whether the number's rating is at or below the level that holds marketing. */
export function qualityIsLow(quality: string | undefined, holdAt: MarketingHoldQuality): boolean {
  if (holdAt === 'never' || quality === undefined) return false;
  const rank = RANK[quality.toUpperCase()];
  return rank !== undefined && rank >= RANK[holdAt]!;
}

export function holdsMarketing(category: MessageCategory, quality: string | undefined, holdAt: MarketingHoldQuality): boolean {
  return category === 'marketing' && qualityIsLow(quality, holdAt);
}
