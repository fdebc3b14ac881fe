import { z } from 'zod';
import { freeFormContent } from './free-form';
import { buttonParam, headerValue, isoDateTime, metadata, paramValue, sender, templateRef, textContent } from './common';

/** One recipient of a list, optionally with its own template parameters. */
export const recipientEntry = z.union([
  z.string().min(1).max(32),
  z
    .object({
      to: z.string().min(1).max(32),
      bodyParams: z.array(paramValue).max(100).optional(),
      headerParams: z.array(z.string().max(1024)).max(1).optional(),
      namedParams: z.record(z.string().regex(/^[a-z0-9_]{1,64}$/), paramValue).optional(),
      header: headerValue.optional(),
      buttonParams: z.array(buttonParam).max(10).optional().describe("replace the request's button parameters of the same index"),
    })
    .strict(),
]);
export type RecipientEntry = z.infer<typeof recipientEntry>;

/** A broadcast audience: a file streamed line by line, never loaded whole. */
export const audience = z
  .object({
    path: z.string().min(1).max(4096),
    format: z.enum(['ndjson', 'csv']),
  })
  .strict();

/**
 * The upstream input contract (topic `wa.notifications.requested`, HTTP `POST /v1/notifications`).
 * Phone numbers are accepted loosely here (the ingest service normalises them to E.164 and
 * dead-letters each bad one on its own, so one typo does not sink a broadcast).
 */
export const notificationRequestV1 = z
  .object({
    v: z.literal(1),
    idempotencyKey: z.string().min(1).max(200),
    sender,
    to: z.string().min(1).max(32).optional().describe('a single recipient'),
    recipients: z.array(recipientEntry).min(1).max(10_000).optional().describe('an inline list of recipients'),
    audience: audience.optional().describe('a broadcast audience file (NDJSON or CSV)'),
    template: templateRef.optional(),
    text: textContent.optional().describe('free-form content; only deliverable inside a 24 h service window'),
    content: freeFormContent.optional().describe('free-form media, location, contacts, interactive or reaction; only inside a 24 h service window'),
    replyTo: z.string().min(1).max(200).optional().describe("wamid of the message this one replies to (Meta's `context`); free-form only"),
    fallbackTemplate: templateRef.optional().describe('sent instead of `text` when the service window is closed'),
    priority: z.enum(['high', 'normal', 'bulk']).optional(),
    coalesce: z
      .object({ key: z.string().min(1).max(128), digestTemplate: templateRef.optional() })
      .strict()
      .optional()
      .describe('merge with other notifications of the same key to the same person within the coalescing window'),
    campaignId: z.string().min(1).max(128).optional(),
    notBefore: isoDateTime.optional(),
    expiresAt: isoDateTime.optional(),
    quietHours: z.boolean().optional().describe('hold marketing during night hours in the recipient time zone'),
    metadata: metadata.optional(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const targets = [job.to, job.recipients, job.audience].filter((t) => t !== undefined).length;
    if (targets !== 1) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'exactly one of `to`, `recipients` or `audience` is required' });
    }
    const contents = [job.template, job.text, job.content].filter((c) => c !== undefined).length;
    if (contents !== 1) {
      ctx.addIssue({ code: 'custom', path: ['template'], message: 'exactly one of `template`, `text` or `content` is required' });
    }
    if (job.fallbackTemplate && !job.text && !job.content) {
      ctx.addIssue({ code: 'custom', path: ['fallbackTemplate'], message: '`fallbackTemplate` only applies to free-form (`text` or `content`)' });
    }
    if (job.replyTo && job.template) {
      ctx.addIssue({ code: 'custom', path: ['replyTo'], message: '`replyTo` only applies to free-form messages' });
    }
    if (job.notBefore && job.expiresAt && Date.parse(job.expiresAt) <= Date.parse(job.notBefore)) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: '`expiresAt` must be later than `notBefore`' });
    }
    if (job.coalesce && job.template?.category === 'authentication') {
      ctx.addIssue({ code: 'custom', path: ['coalesce'], message: 'authentication messages are never coalesced' });
    }
  });
export type NotificationRequestV1 = z.infer<typeof notificationRequestV1>;
