import { z } from 'zod';
import { isoDateTime, lane, messageCategory, metadata } from './common';

/**
 * Audit of every send attempt and terminal outcome (topic `wa.messages.sent`). Recipients appear
 * only as a salted hash plus their country calling code, never as a full number.
 */
export const sendOutcome = z.enum([
  'sent', // Meta accepted the request (HTTP 200) and returned a wamid
  'retry_scheduled', // transient or throttle error; the job went to a retry topic
  'failed', // permanent, fix-request or auth error, or retries exhausted; job dead-lettered
  'rejected', // refused before sending by a compliance gate (opt-out, window, template, tier)
  'expired', // passed its expiry before it could be sent
  'cancelled', // its campaign was cancelled
  'deferred', // held for later (not-before, quiet hours, messaging-limit budget); not terminal
  'unknown', // the process died between claiming and recording; outcome cannot be known
]);
export type SendOutcome = z.infer<typeof sendOutcome>;

export const TERMINAL_SEND_OUTCOMES: ReadonlySet<SendOutcome> = new Set(['sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown']);

export const sentEventV1 = z
  .object({
    v: z.literal(1),
    eventId: z.string().describe('jobId + attempt: unique per attempt, the analytics dedupe key'),
    jobId: z.string(),
    requestKey: z.string(),
    campaignId: z.string().optional(),
    senderPhoneNumberId: z.string(),
    wabaId: z.string().optional(),
    recipientHash: z.string(),
    recipientCountry: z.string().max(3).describe('ISO 3166 alpha-2 from the number, or "ZZ" when unknown'),
    template: z.string().optional(),
    messageType: z
      .string()
      .max(32)
      .optional()
      .describe('template, text, or the free-form kind (image, interactive, …) of the message sent (shared/src/message-shape.ts)'),
    components: z
      .array(z.string().max(48))
      .max(40)
      .optional()
      .describe('structure used (header:image, button:quick_reply, interactive:list, media:id, …); never values or personal content'),
    category: messageCategory,
    lane,
    attempt: z.number().int().min(0),
    outcome: sendOutcome,
    reason: z.string().max(200).optional(),
    httpStatus: z.number().int().optional(),
    errorCode: z.number().int().optional(),
    errorClass: z.string().optional(),
    wamid: z.string().optional(),
    messageStatus: z
      .string()
      .max(64)
      .optional()
      .describe(
        "Meta's message_status of an accepted send: accepted, held_for_quality_assessment or paused (template pacing) — not failures; the status webhooks decide",
      ),
    latencyMs: z.number().min(0).optional(),
    requestedAt: isoDateTime,
    occurredAt: isoDateTime,
    metadata: metadata.optional(),
  })
  .strict();
export type SentEventV1 = z.infer<typeof sentEventV1>;
