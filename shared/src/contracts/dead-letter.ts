import { z } from 'zod';
import { isoDateTime } from './common';

/** Why a record was dead-lettered; stable codes that dashboards and replay tooling key on. */
export const deadLetterReason = z.enum([
  'invalid_json',
  'schema_violation',
  'record_too_large',
  'invalid_recipient',
  'unknown_template',
  'unknown_sender',
  'expired',
  'audience_unreadable',
  'opted_out',
  'outside_service_window',
  'template_not_approved',
  'template_params_mismatch',
  'permanent_error',
  'fix_request_error',
  'auth_error',
  'retries_exhausted',
  'messaging_limit_refused',
  'cancelled',
  'send_outcome_unknown',
  'internal_error',
]);
export type DeadLetterReason = z.infer<typeof deadLetterReason>;

/**
 * A dead-letter record: the original bytes (base64) plus where they came from and why they were
 * refused, so an operator can fix and replay them. Used by `wa.notifications.dlq` and `wa.dispatch.dlq`.
 */
export const deadLetterV1 = z
  .object({
    v: z.literal(1),
    reason: deadLetterReason,
    detail: z.string().max(8000),
    service: z.string().max(64),
    source: z.union([
      z.object({ kind: z.literal('kafka'), topic: z.string(), partition: z.number().int(), offset: z.string() }).strict(),
      z.object({ kind: z.literal('http'), route: z.string() }).strict(),
      z.object({ kind: z.literal('expansion'), requestKey: z.string(), index: z.number().int() }).strict(),
    ]),
    originalKeyBase64: z.string().nullable(),
    originalValueBase64: z.string().describe('the original record value, byte for byte'),
    originalTruncated: z.boolean().default(false).describe('true when the original exceeded the DLQ size cap'),
    jobId: z.string().optional(),
    requestKey: z.string().optional(),
    campaignId: z.string().optional(),
    errorCode: z.number().int().optional().describe("Meta's error code, when the refusal came from the Cloud API"),
    occurredAt: isoDateTime,
  })
  .strict();
export type DeadLetterV1 = z.infer<typeof deadLetterV1>;
