import { z } from 'zod';
import { isoDateTime } from './common';

export const messageStatus = z.enum(['sent', 'delivered', 'read', 'failed', 'deleted', 'warning']);
export type MessageStatus = z.infer<typeof messageStatus>;

/** One status of one message, normalised from Meta's `statuses[]` (topic `wa.events.status`). */
export const statusEventV1 = z
  .object({
    v: z.literal(1),
    eventId: z.string().describe('wamid:status:timestamp — Meta redeliveries collapse onto it'),
    wamid: z.string(),
    status: messageStatus,
    statusAt: isoDateTime.describe("Meta's timestamp of the status"),
    recipientId: z.string().describe("the person's phone number (recipient_id), or their business-scoped user id when Meta sends no phone number"),
    recipientUserId: z.string().optional().describe('business-scoped user id (recipient_user_id)'),
    phoneNumberId: z.string(),
    wabaId: z.string(),
    jobId: z.string().optional().describe('from biz_opaque_callback_data'),
    conversation: z
      .object({
        id: z.string().optional(),
        originType: z.string().optional(),
        expiresAt: isoDateTime.optional(),
      })
      .strict()
      .optional(),
    pricing: z
      .object({
        billable: z.boolean().optional(),
        pricingModel: z.string(),
        category: z.string(),
        type: z.string().optional(),
      })
      .strict()
      .optional(),
    errors: z
      .array(z.object({ code: z.number().int(), title: z.string().optional(), message: z.string().optional(), details: z.string().optional() }).strict())
      .optional(),
    receivedAt: isoDateTime,
    deliveryId: z.string(),
  })
  .strict();
export type StatusEventV1 = z.infer<typeof statusEventV1>;

/** A message from a person (topic `wa.events.inbound`). */
export const inboundEventV1 = z
  .object({
    v: z.literal(1),
    eventId: z.string().describe('the inbound wamid'),
    wamid: z.string(),
    from: z.string().describe("the person's phone number, or their business-scoped user id for a username-only user (no `from`)"),
    fromUserId: z.string().optional().describe('business-scoped user id (from_user_id / contacts[].user_id)'),
    phoneNumberId: z.string(),
    wabaId: z.string(),
    type: z.string(),
    text: z.string().max(4096).optional(),
    buttonPayload: z.string().optional(),
    interactiveReplyId: z.string().optional(),
    contextWamid: z.string().optional(),
    sentAt: isoDateTime,
    receivedAt: isoDateTime,
    deliveryId: z.string(),
  })
  .strict();
export type InboundEventV1 = z.infer<typeof inboundEventV1>;

export const accountEventKind = z.enum(['template_status', 'phone_quality', 'business_capability', 'account_update', 'other']);

/** Account-level changes (topic `wa.events.account`): templates, quality, limits, pricing tiers. */
export const accountEventV1 = z
  .object({
    v: z.literal(1),
    eventId: z.string(),
    kind: accountEventKind,
    field: z.string().describe("Meta's change field, e.g. phone_number_quality_update"),
    wabaId: z.string(),
    occurredAt: isoDateTime,
    phoneNumberId: z.string().optional(),
    displayPhoneNumber: z.string().optional(),
    event: z.string().optional().describe('APPROVED, FLAGGED, UPGRADE, VOLUME_BASED_PRICING_TIER_UPDATE, …'),
    template: z.object({ name: z.string(), language: z.string(), id: z.string().optional(), reason: z.string().optional() }).strict().optional(),
    messagingLimit: z.number().int().nullable().optional().describe('unique recipients per 24 h; null = unlimited'),
    throughputMps: z.number().int().optional(),
    value: z.unknown().describe("Meta's change value, verbatim"),
    receivedAt: isoDateTime,
    deliveryId: z.string(),
  })
  .strict();
export type AccountEventV1 = z.infer<typeof accountEventV1>;
