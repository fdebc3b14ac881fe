import type { AccountEventV1, DeadLetterV1, InboundEventV1, SentEventV1, StatusEventV1 } from '@wa/shared/index';
import { countryOfPhone, hashRecipient } from '@wa/shared/phone';
import { chargeFor, type Charge } from './cost';
import type { RateCard } from './rate-card';
import { statusRank } from './status-machine';

/**
 * Time values go to ClickHouse as ISO-8601 text; the insert sets `date_time_input_format =
 * 'best_effort'` so the engine parses `2025-07-01T12:00:00.000Z` and offsets itself (cheaper than
 * re-formatting every timestamp in JavaScript).
 */
export function chTime(ms: number): string {
  return new Date(ms).toISOString();
}

const msOf = (iso: string) => Date.parse(iso);

/**
 * `Array(String)` in ClickHouse's text form (`['header:image','button:url']`). Tokens are structure
 * names, never values; anything outside their alphabet is dropped so the literal needs no escaping.
 */
export function componentsLiteral(components: readonly string[] | undefined): string {
  if (!components || components.length === 0) return '[]';
  return `[${components.map((c) => `'${c.replace(/[^a-z0-9_:]/g, '')}'`).join(',')}]`;
}

export type SendAttemptRow = ReturnType<typeof sendAttemptRow>;
export function sendAttemptRow(e: SentEventV1) {
  return {
    event_id: e.eventId,
    job_id: e.jobId,
    request_key: e.requestKey,
    campaign_id: e.campaignId ?? '',
    sender_phone_number_id: e.senderPhoneNumberId,
    waba_id: e.wabaId ?? '',
    recipient_hash: e.recipientHash,
    recipient_country: e.recipientCountry,
    template: e.template ?? '',
    message_type: e.messageType ?? '',
    components: componentsLiteral(e.components),
    category: e.category,
    lane: e.lane,
    attempt: e.attempt,
    outcome: e.outcome,
    reason: e.reason ?? '',
    http_status: e.httpStatus ?? 0,
    error_code: e.errorCode ?? 0,
    error_class: e.errorClass ?? '',
    wamid: e.wamid ?? '',
    latency_ms: e.latencyMs ?? 0,
    requested_at: e.requestedAt,
    occurred_at: e.occurredAt,
  };
}

/**
 * Country lookups parse the number with libphonenumber and hashing runs SHA-256, which together
 * dominate the cost of a status row; a number repeats across a message's statuses, so a small memo
 * pays off. Bounded by clearing. The full number lives only here, in memory.
 */
function createRecipientMemo(salt: string, limit = 100_000) {
  const memo = new Map<string, { country: string; hash: string }>();
  return (waId: string) => {
    let r = memo.get(waId);
    if (r === undefined) {
      r = { country: countryOfPhone(waId), hash: hashRecipient(waId, salt) };
      if (memo.size >= limit) memo.clear();
      memo.set(waId, r);
    }
    return r;
  };
}

export interface RowMapper {
  status(e: StatusEventV1): { status: StatusRow; charge: ChargeRow | null; priced: Charge | null };
  inbound(e: InboundEventV1): InboundRow;
  /** Notes when a message was sent (the dispatcher's accepted send), so its charge is priced by the rules of that time. */
  sent(e: SentEventV1): void;
}

/**
 * When each recent message was sent, by wamid: from the dispatcher's sent events and `sent`
 * statuses. Two generations bound the memory (a message's statuses come within hours of its send);
 * a send older than that, or seen before a restart, is priced at its status time instead.
 */
export function createSendTimes(limit = 500_000) {
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  return {
    note(wamid: string, atMs: number): void {
      const known = current.get(wamid) ?? previous.get(wamid);
      if (known !== undefined && known <= atMs) return;
      if (current.size >= limit) {
        previous = current;
        current = new Map();
      }
      current.set(wamid, atMs);
    },
    get: (wamid: string): number | undefined => current.get(wamid) ?? previous.get(wamid),
  };
}

export type StatusRow = ReturnType<RowMapperImpl['statusRow']>;
export type ChargeRow = ReturnType<typeof chargeRow>;
export type InboundRow = ReturnType<RowMapperImpl['inboundRow']>;
type RowMapperImpl = ReturnType<typeof impl>;

function impl(salt: string) {
  const recipient = createRecipientMemo(salt);
  const country = (waId: string) => recipient(waId).country;
  return {
    statusRow(e: StatusEventV1, recipientCountry: string) {
      const errors = e.errors?.[0];
      return {
        event_id: e.eventId,
        wamid: e.wamid,
        status: e.status,
        rank: statusRank(e.status),
        status_at: e.statusAt,
        recipient_hash: recipient(e.recipientId).hash,
        recipient_country: recipientCountry,
        phone_number_id: e.phoneNumberId,
        waba_id: e.wabaId,
        job_id: e.jobId ?? '',
        conversation_id: e.conversation?.id ?? '',
        conversation_origin: e.conversation?.originType ?? '',
        conversation_expires_at: e.conversation?.expiresAt ?? null,
        pricing_model: e.pricing?.pricingModel ?? '',
        pricing_category: e.pricing?.category ?? '',
        pricing_type: e.pricing?.type ?? '',
        billable: e.pricing?.billable === undefined ? null : e.pricing.billable ? 1 : 0,
        error_code: errors?.code ?? 0,
        error_title: errors?.title ?? errors?.message ?? '',
        received_at: e.receivedAt,
        delivery_id: e.deliveryId,
      };
    },
    inboundRow(e: InboundEventV1) {
      const word = e.text?.trim() ?? '';
      return {
        event_id: e.eventId,
        wamid: e.wamid,
        from_hash: recipient(e.from).hash,
        from_country: country(e.from),
        phone_number_id: e.phoneNumberId,
        waba_id: e.wabaId,
        type: e.type,
        // Only one-word replies (STOP, START, YES) are kept, for opt-out analytics; message bodies are personal data.
        keyword: /^\p{L}{1,20}$/u.test(word) ? word.toUpperCase() : '',
        button_payload: e.buttonPayload ?? '',
        interactive_reply_id: e.interactiveReplyId ?? '',
        context_wamid: e.contextWamid ?? '',
        sent_at: e.sentAt,
        received_at: e.receivedAt,
      };
    },
    country,
  };
}

/** The earliest event wins a charge key: ReplacingMergeTree keeps the highest version. */
const VERSION_BASE_MS = 4_102_444_800_000; // 2100-01-01

export function chargeRow(
  c: Charge,
  e: { wamid: string; jobId?: string | undefined; phoneNumberId: string; wabaId: string; eventAtMs: number; eventAtIso?: string },
) {
  const eventAt = e.eventAtIso ?? chTime(e.eventAtMs);
  return {
    charge_key: c.chargeKey,
    version: VERSION_BASE_MS - e.eventAtMs,
    pricing_model: c.pricingModel,
    category: c.category,
    country: c.country,
    billable: c.billable ? 1 : 0,
    free_type: c.freeType,
    priced_at: c.pricedAtMs === e.eventAtMs ? eventAt : chTime(c.pricedAtMs),
    rate_micros: c.rateMicros,
    cost_micros: c.costMicros,
    rate_effective_from: c.rateEffectiveFrom,
    unpriced: c.unpriced ? 1 : 0,
    wamid: e.wamid,
    job_id: e.jobId ?? '',
    phone_number_id: e.phoneNumberId,
    waba_id: e.wabaId,
    event_at: eventAt,
  };
}

/** Maps contract events to ClickHouse rows. Recipient numbers are hashed here and never leave this module. */
export function createRowMapper(options: { salt: string; rateCard: () => RateCard }): RowMapper {
  const m = impl(options.salt);
  const sendTimes = createSendTimes();
  return {
    status(e) {
      const recipientCountry = m.country(e.recipientId);
      const statusAtMs = msOf(e.statusAt);
      if (e.status === 'sent') sendTimes.note(e.wamid, statusAtMs);
      const priced = chargeFor(
        {
          wamid: e.wamid,
          status: e.status,
          statusAtMs,
          sentAtMs: sendTimes.get(e.wamid),
          country: recipientCountry,
          pricing: e.pricing,
          conversation: e.conversation && { id: e.conversation.id, expiresAtMs: e.conversation.expiresAt ? msOf(e.conversation.expiresAt) : undefined },
        },
        options.rateCard(),
      );
      return {
        status: m.statusRow(e, recipientCountry),
        priced,
        charge:
          priced &&
          chargeRow(priced, {
            wamid: e.wamid,
            jobId: e.jobId,
            phoneNumberId: e.phoneNumberId,
            wabaId: e.wabaId,
            eventAtMs: statusAtMs,
            eventAtIso: e.statusAt,
          }),
      };
    },
    inbound: (e) => m.inboundRow(e),
    sent(e) {
      if (e.outcome === 'sent' && e.wamid) sendTimes.note(e.wamid, msOf(e.occurredAt));
    },
  };
}

export function accountRow(e: AccountEventV1) {
  return {
    event_id: e.eventId,
    kind: e.kind,
    field: e.field,
    waba_id: e.wabaId,
    phone_number_id: e.phoneNumberId ?? '',
    display_phone_number: e.displayPhoneNumber ?? '',
    event: e.event ?? '',
    template_name: e.template?.name ?? '',
    template_language: e.template?.language ?? '',
    reason: e.template?.reason ?? '',
    messaging_limit: e.messagingLimit ?? null,
    throughput_mps: e.throughputMps ?? null,
    value: JSON.stringify(e.value ?? null),
    occurred_at: e.occurredAt,
    received_at: e.receivedAt,
  };
}

export function deadLetterRow(d: DeadLetterV1, at: { topic: string; dlqTopic: string; partition: number; offset: string }) {
  return {
    event_id: `${at.topic}:${at.partition}:${at.offset}`,
    dlq_topic: at.dlqTopic,
    reason: d.reason,
    detail: d.detail.slice(0, 2000),
    service: d.service,
    source_kind: d.source.kind,
    source_topic: d.source.kind === 'kafka' ? d.source.topic : '',
    job_id: d.jobId ?? '',
    request_key: d.requestKey ?? '',
    campaign_id: d.campaignId ?? '',
    error_code: d.errorCode ?? 0,
    original_bytes: Math.floor((d.originalValueBase64.length * 3) / 4),
    occurred_at: d.occurredAt,
  };
}
