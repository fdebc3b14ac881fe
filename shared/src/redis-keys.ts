/**
 * The Redis key layout shared by the webhook service (writer) and the dispatcher (reader). One
 * place so the two cannot drift. Every key is prefixed with REDIS_KEY_PREFIX by the caller.
 */
export function createRedisKeys(prefix = '') {
  const p = `${prefix}wa:`;
  return Object.freeze({
    /** Epoch ms of the person's last inbound message to this business number; TTL 24 h (the service window). */
    serviceWindow: (phoneNumberId: string, waId: string) => `${p}window:${phoneNumberId}:${waId}`,
    /**
     * "1:<event ms>" when the person opted out of this business account's messages (STOP; no TTL),
     * "0:<event ms>" after an opt-in (START; expires after 30 days). Anything not starting with "1" is opted in.
     */
    optOut: (wabaId: string, waId: string) => `${p}optout:${wabaId}:${waId}`,
    /** JSON {limit: number|null, event, updatedAt}: the messaging limit of a business account's portfolio. */
    messagingLimit: (wabaId: string) => `${p}limit:${wabaId}`,
    /** JSON {quality, event, throughputMps?, updatedAt}: a phone number's quality rating and throughput. */
    phoneQuality: (phoneNumberId: string) => `${p}quality:${phoneNumberId}`,
    /**
     * The same JSON by display number: Meta's phone_number_quality_update names a number only by its
     * display number, and the dispatcher maps it to the id through its catalogue. TTL 90 days.
     */
    phoneStateByDisplay: (displayPhoneNumber: string) => `${p}phone-state:${displayPhoneNumber}`,
    /** Template status (APPROVED, PAUSED, DISABLED, …) by business account, name and language. */
    templateStatus: (wabaId: string, name: string, language: string) => `${p}template:${wabaId}:${name}:${language}`,
    /** JSON {syncedAt, templates}: a business account's message templates as Meta listed them; TTL 7 days, renewed by each sync. */
    templates: (wabaId: string) => `${p}templates:${wabaId}`,
    /** Pub/sub channel announcing that a business account's synced templates changed (message: the WABA id). */
    templatesChangedChannel: () => `${p}templates-changed`,
    /** JSON AccountStanding (account-standing.ts): bans, restrictions, violations from account_update; TTL 180 days, renewed by each event. */
    accountStanding: (wabaId: string) => `${p}standing:${wabaId}`,
    /** JSON TemplateCategoryChange (template-category.ts): Meta's latest re-categorisation of a template; TTL 400 days. */
    templateCategory: (wabaId: string, name: string, language: string) => `${p}template-category:${wabaId}:${name}:${language}`,
    /** JSON {previous, score, updatedAt}: a template's quality score (message_template_quality_update); TTL 400 days. */
    templateQuality: (wabaId: string, name: string, language: string) => `${p}template-quality:${wabaId}:${name}:${language}`,
    /** JSON of the latest account_update volume pricing tier event. */
    pricingTier: (wabaId: string) => `${p}pricing-tier:${wabaId}`,
    /** Pub/sub channel announcing that account state (tiers, quality, templates) changed. */
    accountChangesChannel: () => `${p}account-changes`,
    /**
     * Phone number id of a business number by its display number. Quality webhooks name only the
     * display number; the webhook service learns the pairing from `metadata` of message webhooks.
     */
    phoneNumberIdByDisplay: (displayPhoneNumber: string) => `${p}phone-by-display:${displayPhoneNumber}`,
    /** JSON {id, uploadedAt}: a campaign's media uploaded through this sender (dispatcher); TTL 29 days. `:lock` and `:failed` beside it. */
    campaignMedia: (campaignId: string, phoneNumberId: string, linkHash: string) => `${p}campaign-media:${campaignId}:${phoneNumberId}:${linkHash}`,
    /** "1" once the webhook service asked Meta to mark this inbound message as read; TTL 24 h. */
    readMarked: (wamid: string) => `${p}read-marked:${wamid}`,
    /** Prefix of the webhook dedupe buckets (hashes of event-id digests per day, see redis-buckets.ts). */
    webhookSeenBuckets: () => `${p}webhook-seen:`,
    /**
     * ZSET of one number's requests in Meta's sliding throughput window, scored by Redis' clock: the
     * dispatchers' admitted sends (send guard) and the inbound messages the normaliser learned of. TTL 2 windows.
     */
    throughputWindow: (phoneNumberId: string) => `${p}dispatch:sent-window:${phoneNumberId}`,
    /** Hash of a number's inbound messages per 5 s of Meta's timestamps (shared/inbound-rate.ts), written by the normaliser; TTL 4 minutes. */
    inboundRate: (phoneNumberId: string) => `${p}inbound-rate:${phoneNumberId}`,
  });
}
export type RedisKeys = ReturnType<typeof createRedisKeys>;

/** Meta counts a number's throughput (inbound and outbound messages) in a sliding window of one second. */
export const THROUGHPUT_WINDOW_MS = 1_000;

/** Service windows last 24 hours from the person's last inbound message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;
