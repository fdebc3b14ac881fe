import { hash } from 'node:crypto';
import type { RawDeliveryInput } from '@wa/shared/contracts/webhook-raw';

/** sha256 of the exact body: a redelivery of the same bytes gets the same id. */
export function deliveryIdOf(body: Buffer): string {
  // One-shot: about a quarter of createHash's cost on a webhook-sized body.
  return hash('sha256', body, 'hex');
}

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/**
 * Whether the body is shaped like a JSON object or array: first and last non-whitespace bytes are
 * `{…}` or `[…]`. Deliberately not a parse — this runs on the acknowledgement path of every request
 * and a full `JSON.parse` there cost ~7 % of the receiver's CPU (plus the garbage). The normaliser
 * parses every body anyway and dead-letters one that does not parse (`invalid_json`), so a body
 * that merely looks like JSON is still caught there; `isJson: false` (and `wa_webhook_non_json_total`)
 * marks bodies that are certainly not a JSON document.
 */
export function isJsonBody(body: Buffer): boolean {
  let start = 0;
  let end = body.length - 1;
  while (start <= end && isSpace(body[start])) start += 1;
  while (end > start && isSpace(body[end])) end -= 1;
  if (end <= start) return false;
  const first = body[start];
  const last = body[end];
  return (first === 0x7b && last === 0x7d) || (first === 0x5b && last === 0x5d);
}

/** Envelope fields around the body (ids, signature, content type, a user agent within Node's 16 KiB header limit). */
export const RAW_RECORD_OVERHEAD_BYTES = 32 * 1024;

/** The largest raw record a body of `bodyBytes` can become (the body is stored as it is). */
export function rawRecordMaxBytes(bodyBytes: number): number {
  return bodyBytes + RAW_RECORD_OVERHEAD_BYTES;
}

/**
 * Refuses a body limit whose records the raw topic would reject (max.message.bytes): the receiver would ack
 * nothing but 503 for such bodies, and Meta would retry them for days. Returns the problem, or null.
 */
export function bodyLimitProblem(maxBodyBytes: number, topicMaxMessageBytes: number, topic: string): string | null {
  const record = rawRecordMaxBytes(maxBodyBytes);
  if (record <= topicMaxMessageBytes) return null;
  const largestBody = topicMaxMessageBytes - RAW_RECORD_OVERHEAD_BYTES;
  return `WEBHOOK_MAX_BODY_BYTES: ${maxBodyBytes} makes raw records of up to ${record} bytes, above max.message.bytes ${topicMaxMessageBytes} of ${topic}; set it to at most ${largestBody} or raise the topic's max.message.bytes`;
}

export interface RawRequest {
  body: Buffer;
  contentType: string | undefined;
  signature: string | undefined;
  userAgent: string | undefined;
  secretId: string;
  receivedAtMs: number;
}

/** A delivery as stored on wa.webhooks.raw (encodeRawRecord): the bytes as received plus what is needed to re-verify them. */
export function buildRawDelivery(req: RawRequest): RawDeliveryInput {
  return {
    deliveryId: deliveryIdOf(req.body),
    receivedAtMs: req.receivedAtMs,
    body: req.body,
    contentType: req.contentType ?? null,
    signature: req.signature ?? null,
    secretId: req.secretId,
    isJson: isJsonBody(req.body),
    userAgent: req.userAgent ?? null,
  };
}
