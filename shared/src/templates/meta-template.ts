import { z } from 'zod';

/**
 * A message template as Meta returns it from `GET /{waba-id}/message_templates`
 * (developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm and
 * developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-account/message-template-api).
 * Loose on purpose: Meta adds fields and component kinds; what the product does not understand it
 * keeps verbatim and refuses to fill (see spec.ts).
 */
export const metaButton = z
  .object({
    type: z.string(),
    text: z.string().optional(),
    url: z.string().optional(),
    phone_number: z.string().optional(),
    otp_type: z.string().optional(),
    example: z.unknown().optional(),
  })
  .loose();
export type MetaButton = z.infer<typeof metaButton>;

const baseComponent = z
  .object({
    type: z.string(),
    format: z.string().optional(),
    text: z.string().optional(),
    buttons: z.array(metaButton).optional(),
    limited_time_offer: z.object({ text: z.string().optional(), has_expiration: z.boolean().optional() }).loose().optional(),
    example: z.unknown().optional(),
  })
  .loose();

export const metaComponent = baseComponent.extend({
  cards: z.array(z.object({ components: z.array(baseComponent) }).loose()).optional(),
});
export type MetaComponent = z.infer<typeof metaComponent>;

export const metaTemplate = z
  .object({
    id: z.string().optional(),
    name: z.string().min(1),
    language: z.string().min(2),
    status: z.string(),
    category: z.string(),
    parameter_format: z.string().optional(),
    previous_category: z.string().optional(),
    quality_score: z.object({ score: z.string() }).loose().optional(),
    components: z.array(metaComponent).default([]),
  })
  .loose();
export type MetaTemplate = z.infer<typeof metaTemplate>;

/** One page of `GET /{waba-id}/message_templates` (Graph API cursor paging). */
export const metaTemplatePage = z
  .object({
    data: z.array(z.unknown()),
    paging: z
      .object({ cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).loose().optional(), next: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();

/** The fields the product asks for when it syncs templates. */
export const TEMPLATE_FIELDS = 'id,name,language,status,category,previous_category,parameter_format,quality_score,components';
