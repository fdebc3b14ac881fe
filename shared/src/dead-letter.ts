import type { DeadLetterReason, DeadLetterV1 } from './contracts/dead-letter';

/**
 * Original bytes kept in a dead-letter record by default. Base64 makes them 4/3 larger: 700 KB of
 * original is ~933 KB encoded, which with the detail and envelope stays under the broker's
 * default 1 MB record limit (message.max.bytes).
 */
export const DLQ_ORIGINAL_MAX_BYTES = 700_000;
/** The contract's limit on `detail`. */
const DETAIL_MAX_CHARS = 8_000;

export interface DeadLetterInput {
  reason: DeadLetterReason;
  detail: string;
  service: string;
  source: DeadLetterV1['source'];
  key: Buffer | string | null;
  value: Buffer | string | null;
  occurredAtMs: number;
  jobId?: string;
  requestKey?: string;
  campaignId?: string;
  errorCode?: number;
  /** Original bytes kept (default DLQ_ORIGINAL_MAX_BYTES); longer values are cut and flagged `originalTruncated`. */
  maxOriginalBytes?: number;
}

/**
 * The one way a dead-letter record is built: the original key and value as base64, the value cut
 * to `maxOriginalBytes` (and then flagged, so replay tooling refuses it), the detail cut to the
 * contract's 8,000 characters.
 */
export function buildDeadLetter(input: DeadLetterInput): DeadLetterV1 {
  const value = toBuffer(input.value);
  const max = input.maxOriginalBytes ?? DLQ_ORIGINAL_MAX_BYTES;
  const truncated = value.length > max;
  const record: DeadLetterV1 = {
    v: 1,
    reason: input.reason,
    detail: input.detail.slice(0, DETAIL_MAX_CHARS),
    service: input.service,
    source: input.source,
    originalKeyBase64: input.key === null ? null : toBuffer(input.key).toString('base64'),
    originalValueBase64: (truncated ? value.subarray(0, max) : value).toString('base64'),
    originalTruncated: truncated,
    occurredAt: new Date(input.occurredAtMs).toISOString(),
  };
  if (input.jobId !== undefined) record.jobId = input.jobId;
  if (input.requestKey !== undefined) record.requestKey = input.requestKey;
  if (input.campaignId !== undefined) record.campaignId = input.campaignId;
  if (input.errorCode !== undefined) record.errorCode = input.errorCode;
  return record;
}

function toBuffer(v: Buffer | string | null): Buffer {
  if (v === null) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v) : v;
}
