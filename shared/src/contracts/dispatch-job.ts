import { z } from 'zod';
import { freeFormContent } from './free-form';
import { isoDateTime, lane, messageCategory, metadata, sender, templateRef, textContent, waId } from './common';

export const dispatchMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('template'), template: templateRef }).strict(),
  z.object({ type: z.literal('text'), text: textContent }).strict(),
  z.object({ type: z.literal('freeform'), content: freeFormContent, replyTo: z.string().max(200).optional() }).strict(),
]);
export type DispatchMessage = z.infer<typeof dispatchMessage>;

/**
 * One message to one person, as produced by ingest to `wa.dispatch.jobs.<lane>` and by the
 * dispatcher to the retry topics. `jobId` is deterministic (request idempotency key + recipient),
 * so a redelivered or re-expanded job is recognised by the dispatcher's send ledger.
 */
export const dispatchJobV1 = z
  .object({
    v: z.literal(1),
    jobId: z.string().min(1).max(200),
    requestKey: z.string().min(1).max(200).describe('idempotency key of the originating request'),
    sender,
    to: waId,
    lane,
    category: messageCategory,
    message: dispatchMessage,
    fallbackTemplate: templateRef.optional(),
    campaignId: z.string().max(128).optional(),
    notBefore: isoDateTime.optional(),
    expiresAt: isoDateTime.optional(),
    quietHours: z.boolean().optional(),
    metadata: metadata.optional(),
    coalescedJobIds: z.array(z.string()).max(100).optional().describe('jobs merged into this one'),
    requestedAt: isoDateTime,
    attempt: z.number().int().min(0).max(100).default(0),
    retryAt: z.number().int().optional().describe('epoch ms before which a retry topic consumer must not send'),
    lastError: z
      .object({ code: z.string(), detail: z.string().max(2000) })
      .strict()
      .optional(),
    heldFor: z
      .enum(['campaign'])
      .optional()
      .describe(
        'why a retry-topic record waits: "campaign" = its campaign was paused; due as soon as the campaign is resumed or cancelled, whatever its retryAt',
      ),
  })
  .strict();
export type DispatchJobV1 = z.infer<typeof dispatchJobV1>;
