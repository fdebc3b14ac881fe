import type { NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { notificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { decodeJson, formatIssues, type DecodeResult } from '@wa/shared/decode';

/**
 * Decodes a request record like `decodeJson(notificationRequestV1, …)`, with a hand-written check
 * for the common shapes in front of zod. zod allocates ~4.8 KB and spends ~2–9 µs per request
 * (a payload and issue list per field); this check builds only the output objects.
 *
 * The fast check answers only when it is certain of zod's answer: the request uses just `to` or a
 * list of plain-string `recipients`, a `template`, and the optional `campaignId`, `priority`,
 * `quietHours`; every value is within the schema's limits. It then returns what zod returns (keys
 * in the schema's order, unknown keys of the non-strict template and button objects dropped).
 * Anything else — audiences, text, coalescing, times, metadata, object recipients, any doubt, and
 * every invalid request — goes to zod, so dead-letter details are zod's own.
 * test/unit/fast-request.test.ts compares both over valid requests and thousands of mutations.
 */
export function decodeRequest(bytes: Buffer | null, maxBytes: number): DecodeResult<NotificationRequestV1> {
  if (bytes === null || bytes.length === 0 || bytes.length > maxBytes) return decodeJson(notificationRequestV1, bytes, maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return decodeJson(notificationRequestV1, bytes, maxBytes);
  }
  const fast = fastRequest(parsed);
  if (fast) return { ok: true, value: fast };
  const result = notificationRequestV1.safeParse(parsed);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, reason: 'schema_violation', detail: formatIssues(result.error) };
}

const TOP_KEYS = new Set(['v', 'idempotencyKey', 'sender', 'to', 'recipients', 'template', 'campaignId', 'priority', 'quietHours']);
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
const PHONE_NUMBER_ID = /^\d{1,32}$/;
const CATEGORIES = new Set(['marketing', 'utility', 'authentication']);
const PRIORITIES = new Set(['high', 'normal', 'bulk']);
const SUB_TYPES = new Set(['url', 'quick_reply', 'copy_code']);
const RICH_TEMPLATE_KEYS = ['header', 'namedParams', 'cards', 'limitedTimeOffer'] as const;
const RICH_BUTTON_KEYS = ['flowToken', 'flowActionData', 'thumbnailProductRetailerId', 'sections'] as const;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max;

function ownKeysWithin(o: Obj, allowed: ReadonlySet<string>): boolean {
  // JSON.parse output has no inherited enumerable keys; an own `__proto__` key is listed and refused.
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

function stringArray(v: unknown, maxItems: number, maxLength: number): string[] | undefined {
  if (!Array.isArray(v) || v.length > maxItems) return undefined;
  for (const s of v) if (!str(s, 0, maxLength)) return undefined;
  return v.slice() as string[];
}

function fastSender(v: unknown): NotificationRequestV1['sender'] | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'phoneNumberId')
    return typeof v.phoneNumberId === 'string' && PHONE_NUMBER_ID.test(v.phoneNumberId) ? { phoneNumberId: v.phoneNumberId } : undefined;
  if (keys[0] === 'pool') return str(v.pool, 1, 64) ? { pool: v.pool } : undefined;
  return undefined;
}

type Template = NonNullable<NotificationRequestV1['template']>;

function fastTemplate(v: unknown): Template | undefined {
  if (!isObject(v)) return undefined;
  const { name, language, category } = v;
  // Rich parameters (media headers, named parameters, carousels, offers) are zod's to check.
  for (const k of RICH_TEMPLATE_KEYS) if (v[k] !== undefined) return undefined;
  if (typeof name !== 'string' || !TEMPLATE_NAME.test(name)) return undefined;
  if (typeof language !== 'string' || !LANGUAGE.test(language)) return undefined;
  if (typeof category !== 'string' || !CATEGORIES.has(category)) return undefined;
  const out: Template = { name, language, category: category as Template['category'] };
  if (v.headerParams !== undefined) {
    const h = stringArray(v.headerParams, 1, 1024);
    if (!h) return undefined;
    out.headerParams = h;
  }
  if (v.bodyParams !== undefined) {
    const b = stringArray(v.bodyParams, 100, 1024);
    if (!b) return undefined;
    out.bodyParams = b;
  }
  if (v.buttonParams !== undefined) {
    if (!Array.isArray(v.buttonParams) || v.buttonParams.length > 10) return undefined;
    const buttons: NonNullable<Template['buttonParams']> = [];
    for (const p of v.buttonParams) {
      if (!isObject(p)) return undefined;
      for (const k of RICH_BUTTON_KEYS) if (p[k] !== undefined) return undefined;
      const { index, subType, text } = p;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 9) return undefined;
      if (typeof subType !== 'string' || !SUB_TYPES.has(subType)) return undefined;
      if (!str(text, 1, 2000)) return undefined;
      buttons.push({ index, subType: subType as 'url', text });
    }
    out.buttonParams = buttons;
  }
  return out;
}

/** zod's output for `value` when the fast check is certain of it; undefined: ask zod. */
export function fastRequest(value: unknown): NotificationRequestV1 | undefined {
  if (!isObject(value) || !ownKeysWithin(value, TOP_KEYS)) return undefined;
  if (value.v !== 1 || !str(value.idempotencyKey, 1, 200)) return undefined;
  const sender = fastSender(value.sender);
  if (!sender) return undefined;
  const hasTo = value.to !== undefined;
  const hasRecipients = value.recipients !== undefined;
  if (hasTo === hasRecipients) return undefined;
  if (hasTo && !str(value.to, 1, 32)) return undefined;
  let recipients: string[] | undefined;
  if (hasRecipients) {
    const list = value.recipients;
    if (!Array.isArray(list) || list.length < 1 || list.length > 10_000) return undefined;
    for (const r of list) if (!str(r, 1, 32)) return undefined;
    recipients = list.slice() as string[];
  }
  const template = fastTemplate(value.template);
  if (!template) return undefined;
  const out: NotificationRequestV1 = { v: 1, idempotencyKey: value.idempotencyKey as string, sender };
  if (hasTo) out.to = value.to as string;
  if (recipients) out.recipients = recipients;
  out.template = template;
  if (value.priority !== undefined) {
    if (typeof value.priority !== 'string' || !PRIORITIES.has(value.priority)) return undefined;
    out.priority = value.priority as NonNullable<NotificationRequestV1['priority']>;
  }
  if (value.campaignId !== undefined) {
    if (!str(value.campaignId, 1, 128)) return undefined;
    out.campaignId = value.campaignId;
  }
  if (value.quietHours !== undefined) {
    if (typeof value.quietHours !== 'boolean') return undefined;
    out.quietHours = value.quietHours;
  }
  return out;
}
