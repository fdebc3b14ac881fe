import { createHash } from 'node:crypto';
import { accountEventV1, inboundEventV1, statusEventV1, type AccountEventV1, type InboundEventV1, type StatusEventV1 } from '@wa/shared/contracts/events';
import { formatIssues } from '@wa/shared/decode';
import { MAX_THROUGHPUT_MPS, parseMessagingLimit } from '@wa/shared/tiers';

/** Where a payload came from: copied onto every event so analytics can trace it to the raw record. */
export interface DeliveryContext {
  deliveryId: string;
  receivedAt: string;
}

export interface InvalidEvent {
  kind: 'envelope' | 'status' | 'inbound' | 'account';
  eventId?: string;
  detail: string;
}

export interface NormalisedPayload {
  status: StatusEventV1[];
  inbound: InboundEventV1[];
  account: AccountEventV1[];
  invalid: InvalidEvent[];
  /** display number → phone number id, learned from `metadata` (quality updates carry only the display number). */
  phoneNumbers: { phoneNumberId: string; displayPhoneNumber: string }[];
}

const INBOUND_TEXT_MAX = 4_096;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Meta timestamps are epoch seconds as strings ("1750000000"); anything else is left for the schema to reject. */
/** Longest quick-reply button payload carried on (longer ones are cut): a payload is a developer-defined id. */
export const MAX_BUTTON_PAYLOAD_CHARS = 1_024;

export function epochSecondsToIso(value: unknown): string | undefined {
  const s = str(value);
  if (s === undefined || !/^\d{1,12}$/.test(s)) return undefined;
  return new Date(Number(s) * 1000).toISOString();
}

/** JSON with sorted keys, so two deliveries of the same change hash alike whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObj(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Status ids are wamid:status:timestamp — exactly what Meta repeats when it redelivers. */
export function statusEventId(wamid: string, status: string, timestamp: string): string {
  return `${wamid}:${status}:${timestamp}`;
}

/**
 * Account changes have no id of their own; the field, the account, Meta's entry time and a hash
 * of the value identify a redelivery of the same change.
 */
export function accountEventId(field: string, wabaId: string, time: string | undefined, value: unknown): string {
  const digest = createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 24);
  return `${field}:${wabaId}:${time ?? '-'}:${digest}`;
}

const ACCOUNT_KIND: Record<string, AccountEventV1['kind']> = {
  message_template_status_update: 'template_status',
  phone_number_quality_update: 'phone_quality',
  business_capability_update: 'business_capability',
  account_update: 'account_update',
};

/**
 * The portfolio's limit, in whichever field this generation of the webhook carries it.
 * `max_daily_conversations_per_business` replaces `current_limit` (being removed since February 2026):
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
 */
const LIMIT_FIELDS = [
  'max_daily_conversations_per_business',
  'whatsapp_business_manager_messaging_limit',
  'max_daily_conversation_per_business',
  'messaging_limit',
  'current_limit',
] as const;

/**
 * `phone_number_quality_update` events that change throughput, not the messaging limit. For them
 * `current_limit` names the throughput level (`TIER_UNLIMITED` = "higher throughput", 1,000 msg/s)
 * and carries no messages-per-second figure: reading it as a messaging limit would make the
 * portfolio unlimited.
 */
const THROUGHPUT_EVENTS: Record<string, number> = { THROUGHPUT_UPGRADE: MAX_THROUGHPUT_MPS };

function readLimit(value: Obj): number | null | undefined {
  for (const field of LIMIT_FIELDS) {
    if (value[field] === undefined) continue;
    const parsed = parseMessagingLimit(value[field]);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

function collect<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } },
  candidate: Obj,
  kind: InvalidEvent['kind'],
  into: T[],
  invalid: InvalidEvent[],
): void {
  const parsed = schema.safeParse(candidate);
  if (parsed.success) into.push(parsed.data);
  else invalid.push({ kind, eventId: str(candidate.eventId), detail: `${kind} event: ${formatIssues(parsed.error)}` });
}

function statusCandidate(s: Obj, wabaId: string, phoneNumberId: string | undefined, ctx: DeliveryContext): Obj {
  const wamid = str(s.id);
  const status = str(s.status);
  const timestamp = str(s.timestamp);
  const candidate: Obj = {
    v: 1,
    eventId: wamid && status && timestamp ? statusEventId(wamid, status, timestamp) : undefined,
    wamid,
    status,
    statusAt: epochSecondsToIso(s.timestamp) ?? timestamp,
    // Business-scoped user ids (2026): a person may come without a phone number; key them by the user id then.
    recipientId: str(s.recipient_id) ?? str(s.recipient_user_id),
    phoneNumberId,
    wabaId,
    receivedAt: ctx.receivedAt,
    deliveryId: ctx.deliveryId,
  };
  if (str(s.recipient_user_id) !== undefined) candidate.recipientUserId = str(s.recipient_user_id);
  const jobId = str(s.biz_opaque_callback_data);
  if (jobId !== undefined) candidate.jobId = jobId;
  if (isObj(s.conversation)) {
    const c = s.conversation;
    const conversation: Obj = {};
    if (str(c.id) !== undefined) conversation.id = str(c.id);
    if (isObj(c.origin) && str(c.origin.type) !== undefined) conversation.originType = str(c.origin.type);
    if (c.expiration_timestamp !== undefined) conversation.expiresAt = epochSecondsToIso(c.expiration_timestamp) ?? c.expiration_timestamp;
    candidate.conversation = conversation;
  }
  if (isObj(s.pricing)) {
    const p = s.pricing;
    const pricing: Obj = { pricingModel: p.pricing_model, category: p.category };
    if (p.billable !== undefined) pricing.billable = p.billable;
    if (p.type !== undefined) pricing.type = p.type;
    candidate.pricing = pricing;
  }
  if (s.errors !== undefined) {
    candidate.errors = arr(s.errors).map((e) => {
      const err = isObj(e) ? e : {};
      const out: Obj = { code: err.code };
      if (str(err.title) !== undefined) out.title = err.title;
      if (str(err.message) !== undefined) out.message = err.message;
      if (isObj(err.error_data) && str(err.error_data.details) !== undefined) out.details = err.error_data.details;
      return out;
    });
  }
  return candidate;
}

/** The sender's contact entry: the one whose wa_id / user_id matches, else the only one. */
function contactOf(m: Obj, contacts: unknown[]): Obj | undefined {
  const objs = contacts.filter(isObj);
  const from = str(m.from);
  const userId = str(m.from_user_id);
  return (
    objs.find((c) => (from !== undefined && str(c.wa_id) === from) || (userId !== undefined && str(c.user_id) === userId)) ??
    (objs.length === 1 ? objs[0] : undefined)
  );
}

function inboundCandidate(m: Obj, wabaId: string, phoneNumberId: string | undefined, ctx: DeliveryContext, contacts: unknown[] = []): Obj {
  const wamid = str(m.id);
  const type = str(m.type);
  const contact = contactOf(m, contacts);
  // Username-only users come without `from` (and without wa_id): they are keyed by their business-scoped user id.
  const userId = str(m.from_user_id) ?? (contact ? str(contact.user_id) : undefined);
  const candidate: Obj = {
    v: 1,
    eventId: wamid,
    wamid,
    from: str(m.from) ?? (contact ? str(contact.wa_id) : undefined) ?? userId,
    phoneNumberId,
    wabaId,
    type,
    sentAt: epochSecondsToIso(m.timestamp) ?? m.timestamp,
    receivedAt: ctx.receivedAt,
    deliveryId: ctx.deliveryId,
  };
  if (userId !== undefined) candidate.fromUserId = userId;
  let text: string | undefined;
  if (isObj(m.text)) text = str(m.text.body);
  if (isObj(m.button)) {
    text = str(m.button.text);
    // Bounded: the payload travels to Kafka and ClickHouse; ours are short ids (MAX_BUTTON_PAYLOAD_CHARS).
    if (str(m.button.payload) !== undefined) candidate.buttonPayload = str(m.button.payload)!.slice(0, MAX_BUTTON_PAYLOAD_CHARS);
  }
  if (isObj(m.interactive)) {
    const reply = isObj(m.interactive.button_reply) ? m.interactive.button_reply : isObj(m.interactive.list_reply) ? m.interactive.list_reply : undefined;
    if (reply !== undefined) {
      text = str(reply.title);
      if (str(reply.id) !== undefined) candidate.interactiveReplyId = str(reply.id);
    }
  }
  // Media captions count as text a person wrote; keywords in them are honoured too.
  for (const media of ['image', 'video', 'document']) {
    const part = m[media];
    if (text === undefined && isObj(part)) text = str(part.caption);
  }
  if (text !== undefined) candidate.text = text.slice(0, INBOUND_TEXT_MAX);
  if (isObj(m.context) && str(m.context.id) !== undefined) candidate.contextWamid = str(m.context.id);
  return candidate;
}

/** Fields other than the status update that name a template (re-categorisation, quality score). */
const TEMPLATE_FIELDS = new Set(['template_category_update', 'message_template_quality_update']);

function accountCandidate(field: string, value: Obj, wabaId: string, time: string | undefined, ctx: DeliveryContext): Obj {
  const kind = ACCOUNT_KIND[field] ?? 'other';
  const candidate: Obj = {
    v: 1,
    eventId: accountEventId(field, wabaId, time, value),
    kind,
    field,
    wabaId,
    occurredAt: epochSecondsToIso(time) ?? ctx.receivedAt,
    value,
    receivedAt: ctx.receivedAt,
    deliveryId: ctx.deliveryId,
  };
  const event = str(value.event);
  if (event !== undefined) candidate.event = event;
  const phoneNumberId = str(value.phone_number_id);
  if (phoneNumberId !== undefined) candidate.phoneNumberId = phoneNumberId;
  const display = str(value.display_phone_number);
  if (display !== undefined) candidate.displayPhoneNumber = display;
  const namesTemplate = str(value.message_template_name) !== undefined && str(value.message_template_language) !== undefined;
  if (kind === 'template_status' || (TEMPLATE_FIELDS.has(field) && namesTemplate)) {
    const template: Obj = { name: str(value.message_template_name), language: str(value.message_template_language) };
    if (str(value.message_template_id) !== undefined) template.id = str(value.message_template_id);
    if (str(value.reason) !== undefined) template.reason = str(value.reason);
    candidate.template = template;
  }
  if (kind === 'phone_quality' || kind === 'business_capability') {
    const throughput = kind === 'phone_quality' && event !== undefined ? THROUGHPUT_EVENTS[event.toUpperCase()] : undefined;
    if (throughput !== undefined) candidate.throughputMps = throughput;
    else {
      const limit = readLimit(value);
      if (limit !== undefined) candidate.messagingLimit = limit;
    }
  }
  return candidate;
}

/**
 * Splits one webhook body into normalised events. Pure: no I/O, no clock. Each event is validated
 * by its topic schema; what fails is reported in `invalid` with a readable reason instead of being
 * dropped, and the rest of the payload is still returned.
 */
export function normaliseWebhook(body: unknown, ctx: DeliveryContext): NormalisedPayload {
  const out: NormalisedPayload = { status: [], inbound: [], account: [], invalid: [], phoneNumbers: [] };
  if (!isObj(body) || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
    out.invalid.push({ kind: 'envelope', detail: 'envelope: expected {"object":"whatsapp_business_account","entry":[…]}' });
    return out;
  }
  for (const [i, entry] of body.entry.entries()) {
    const wabaId = isObj(entry) ? str(entry.id) : undefined;
    if (!isObj(entry) || wabaId === undefined || !Array.isArray(entry.changes)) {
      out.invalid.push({ kind: 'envelope', detail: `entry.${i}: expected {id, changes:[…]}` });
      continue;
    }
    const time = str(entry.time);
    for (const [j, change] of entry.changes.entries()) {
      const field = isObj(change) ? str(change.field) : undefined;
      const value = isObj(change) && isObj(change.value) ? change.value : undefined;
      if (field === undefined || value === undefined) {
        out.invalid.push({ kind: 'envelope', detail: `entry.${i}.changes.${j}: expected {field, value:{…}}` });
        continue;
      }
      if (field !== 'messages') {
        collect(accountEventV1, accountCandidate(field, value, wabaId, time, ctx), 'account', out.account, out.invalid);
        continue;
      }
      const metadata = isObj(value.metadata) ? value.metadata : {};
      const phoneNumberId = str(metadata.phone_number_id);
      const display = str(metadata.display_phone_number);
      if (phoneNumberId !== undefined && display !== undefined) out.phoneNumbers.push({ phoneNumberId, displayPhoneNumber: display });
      for (const s of arr(value.statuses)) {
        collect(statusEventV1, statusCandidate(isObj(s) ? s : {}, wabaId, phoneNumberId, ctx), 'status', out.status, out.invalid);
      }
      for (const m of arr(value.messages)) {
        collect(inboundEventV1, inboundCandidate(isObj(m) ? m : {}, wabaId, phoneNumberId, ctx, arr(value.contacts)), 'inbound', out.inbound, out.invalid);
      }
      // A `messages` change without statuses or messages carries system errors (value.errors): keep it as an account event.
      if (value.statuses === undefined && value.messages === undefined) {
        collect(accountEventV1, accountCandidate(field, value, wabaId, time, ctx), 'account', out.account, out.invalid);
      }
    }
  }
  return out;
}
