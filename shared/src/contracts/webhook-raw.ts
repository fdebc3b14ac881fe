import { z } from 'zod';
import { decodeJson } from '../decode';
import { isoDateTime } from './common';

/**
 * Format 1 of a `wa.webhooks.raw` record (JSON, the body bytes in base64), written before format 2
 * (encodeRawRecord below) and still read: a webhook delivery exactly as Meta sent it, so the
 * signature can be re-verified and nothing is lost to re-serialisation.
 */
export const webhookRawV1 = z
  .object({
    v: z.literal(1),
    deliveryId: z.string().describe('sha256 of the body: the same payload redelivered has the same id'),
    receivedAt: isoDateTime,
    bodyBase64: z.string(),
    contentType: z.string().nullable(),
    signature: z.string().nullable().describe('the X-Hub-Signature-256 header as received'),
    secretId: z.string().describe('which configured app secret verified the signature'),
    isJson: z.boolean(),
    userAgent: z.string().nullable(),
  })
  .strict();
export type WebhookRawV1 = z.infer<typeof webhookRawV1>;

/**
 * One webhook delivery as stored on `wa.webhooks.raw`, whichever format carried it. `receivedAt` is
 * an ISO timestamp as in `webhookRawV1`.
 */
export interface RawDelivery {
  deliveryId: string;
  receivedAt: string;
  body: Buffer;
  contentType: string | null;
  signature: string | null;
  secretId: string;
  isJson: boolean;
  userAgent: string | null;
}

/** What the receiver knows of a delivery when it stores it (the binary format keeps the time in epoch ms). */
export type RawDeliveryInput = Omit<RawDelivery, 'receivedAt'> & { receivedAtMs: number };

/**
 * Format 2 of a `wa.webhooks.raw` record value: binary, the body bytes as received — no JSON
 * envelope, no base64 (both cost the receiver CPU on every request and the broker a third more
 * bytes). A record holds one or more deliveries. Integers are big-endian; strings UTF-8; a string
 * length of 0xFFFFFFFF means null.
 *
 *   u8 0x02 (format) · u16 deliveries · per delivery:
 *     u32 body length · u8 flags (bit 0: isJson) · f64 receivedAt epoch ms · 64 B deliveryId (hex ASCII)
 *     u16 secretId length, secretId · u32 signature length, signature · u32 contentType length, contentType
 *     u32 userAgent length, userAgent · body
 *
 * Format 1 (`webhookRawV1`, a JSON object, so its first byte is `{`) is still read.
 */
export const RAW_FORMAT_V2 = 0x02;
const NULL_LENGTH = 0xffffffff;
const FIXED_BYTES = 4 + 1 + 8 + 64 + 2 + 4 + 4 + 4;
const utf8Length = (s: string | null) => (s === null ? 0 : Buffer.byteLength(s, 'utf8'));

/** Bytes one delivery takes in a format-2 record. */
export function rawDeliveryBytes(d: RawDeliveryInput): number {
  return FIXED_BYTES + utf8Length(d.secretId) + utf8Length(d.signature) + utf8Length(d.contentType) + utf8Length(d.userAgent) + d.body.length;
}

function writeString(buf: Buffer, offset: number, s: string | null): number {
  if (s === null) return buf.writeUInt32BE(NULL_LENGTH, offset);
  const written = buf.write(s, offset + 4, 'utf8');
  buf.writeUInt32BE(written, offset);
  return offset + 4 + written;
}

/** Writes one delivery at `offset` (see RAW_FORMAT_V2); returns the offset after it. */
export function writeRawDelivery(buf: Buffer, offset: number, d: RawDeliveryInput): number {
  if (d.deliveryId.length !== 64) throw new Error('deliveryId must be 64 hex characters');
  let at = buf.writeUInt32BE(d.body.length, offset);
  at = buf.writeUInt8(d.isJson ? 1 : 0, at);
  at = buf.writeDoubleBE(d.receivedAtMs, at);
  at += buf.write(d.deliveryId, at, 'latin1');
  const secretId = buf.write(d.secretId, at + 2, 'utf8');
  at = buf.writeUInt16BE(secretId, at) + secretId;
  at = writeString(buf, at, d.signature);
  at = writeString(buf, at, d.contentType);
  at = writeString(buf, at, d.userAgent);
  return at + d.body.copy(buf, at);
}

/** A format-2 record value holding `deliveries` (at least one, at most 65,535). */
export function encodeRawRecord(deliveries: readonly RawDeliveryInput[]): Buffer {
  if (deliveries.length === 0 || deliveries.length > 0xffff) throw new Error(`a raw record holds 1 to 65535 deliveries, not ${deliveries.length}`);
  let size = 3;
  for (const d of deliveries) size += rawDeliveryBytes(d);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt8(RAW_FORMAT_V2, 0);
  let at = buf.writeUInt16BE(deliveries.length, 1);
  for (const d of deliveries) at = writeRawDelivery(buf, at, d);
  return buf;
}

/**
 * One format-2 record holding the deliveries of `records` (each a format-2 record), in order: the receiver
 * group-commits many webhooks into one Kafka record, as kafkajs' encoding costs far more per record than per byte.
 */
export function concatRawRecords(records: readonly Buffer[]): Buffer {
  if (records.length === 1) return records[0]!;
  let count = 0;
  let size = 3;
  for (const r of records) {
    if (r[0] !== RAW_FORMAT_V2 || r.length < 3) throw new Error('not a format-2 raw record');
    count += r.readUInt16BE(1);
    size += r.length - 3;
  }
  if (count > 0xffff) throw new Error(`a raw record holds at most 65535 deliveries, not ${count}`);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt8(RAW_FORMAT_V2, 0);
  let at = buf.writeUInt16BE(count, 1);
  for (const r of records) at += r.copy(buf, at, 3);
  return buf;
}

export type RawRecordDecode = { ok: true; deliveries: RawDelivery[] } | { ok: false; reason: 'invalid_json' | 'schema_violation'; detail: string };

/** Reads a record value of either format. Never throws: a record that does not decode is dead-lettered by the caller. */
export function decodeRawRecord(value: Buffer | null): RawRecordDecode {
  if (value === null || value.length === 0) return { ok: false, reason: 'invalid_json', detail: 'empty record value' };
  if (value[0] !== RAW_FORMAT_V2) return decodeV1(value);
  try {
    return { ok: true, deliveries: decodeV2(value) };
  } catch (err) {
    return { ok: false, reason: 'schema_violation', detail: `format-2 raw record: ${(err as Error).message}` };
  }
}

function decodeV1(value: Buffer): RawRecordDecode {
  // No size limit here: the receiver bounded the body, and base64 makes a full-size one larger than decodeJson's default.
  const result = decodeJson(webhookRawV1, value, Number.POSITIVE_INFINITY);
  if (!result.ok) return { ok: false, reason: result.reason === 'invalid_json' ? 'invalid_json' : 'schema_violation', detail: result.detail };
  const r = result.value;
  const body = Buffer.from(r.bodyBase64, 'base64');
  return {
    ok: true,
    deliveries: [
      {
        deliveryId: r.deliveryId,
        receivedAt: r.receivedAt,
        body,
        contentType: r.contentType,
        signature: r.signature,
        secretId: r.secretId,
        isJson: r.isJson,
        userAgent: r.userAgent,
      },
    ],
  };
}

function decodeV2(buf: Buffer): RawDelivery[] {
  let at = 1;
  const need = (n: number) => {
    if (at + n > buf.length) throw new Error(`truncated at byte ${at}`);
  };
  const readString = (): string | null => {
    need(4);
    const length = buf.readUInt32BE(at);
    at += 4;
    if (length === NULL_LENGTH) return null;
    need(length);
    at += length;
    return buf.toString('utf8', at - length, at);
  };
  need(2);
  const count = buf.readUInt16BE(at);
  at += 2;
  if (count === 0) throw new Error('no deliveries');
  const deliveries: RawDelivery[] = [];
  for (let i = 0; i < count; i += 1) {
    need(77);
    const bodyLength = buf.readUInt32BE(at);
    const isJson = (buf[at + 4]! & 1) === 1;
    const receivedAtMs = buf.readDoubleBE(at + 5);
    const deliveryId = buf.toString('latin1', at + 13, at + 77);
    at += 77;
    need(2);
    const secretIdLength = buf.readUInt16BE(at);
    at += 2;
    need(secretIdLength);
    const secretId = buf.toString('utf8', at, at + secretIdLength);
    at += secretIdLength;
    const signature = readString();
    const contentType = readString();
    const userAgent = readString();
    need(bodyLength);
    const receivedAt = new Date(receivedAtMs);
    if (!/^[0-9a-f]{64}$/.test(deliveryId) || Number.isNaN(receivedAt.getTime())) throw new Error(`delivery ${i}: bad deliveryId or receivedAt`);
    deliveries.push({
      deliveryId,
      receivedAt: receivedAt.toISOString(),
      body: buf.subarray(at, at + bodyLength),
      contentType,
      signature,
      secretId,
      isJson,
      userAgent,
    });
    at += bodyLength;
  }
  if (at !== buf.length) throw new Error(`${buf.length - at} bytes after the last delivery`);
  return deliveries;
}
