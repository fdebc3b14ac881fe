import { z } from 'zod';
import { locationValue, mediaRef, textContent } from './common';

/**
 * Free-form content, deliverable only inside a person's 24 h service window. Limits are Meta's
 * (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages, …/messages/interactive-reply-buttons-messages,
 * …/interactive-list-messages, …/interactive-cta-url-messages, developers.facebook.com/docs/whatsapp/flows/guides/sendingaflow).
 */
const interactiveHeader = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().min(1).max(60) }).strict(),
  z.object({ type: z.literal('image'), image: mediaRef }).strict(),
  z.object({ type: z.literal('video'), video: mediaRef }).strict(),
  z.object({ type: z.literal('document'), document: mediaRef }).strict(),
]);

const common = {
  header: interactiveHeader.optional(),
  body: z.string().min(1).max(1024),
  footer: z.string().min(1).max(60).optional(),
};

export const interactiveContent = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('button'),
      ...common,
      buttons: z
        .array(z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }).strict())
        .min(1)
        .max(3),
    })
    .strict(),
  z
    .object({
      type: z.literal('list'),
      ...common,
      header: z
        .object({ type: z.literal('text'), text: z.string().min(1).max(60) })
        .strict()
        .optional(),
      button: z.string().min(1).max(20).describe('label of the button that opens the list'),
      sections: z
        .array(
          z
            .object({
              title: z.string().min(1).max(24).optional(),
              rows: z
                .array(z.object({ id: z.string().min(1).max(200), title: z.string().min(1).max(24), description: z.string().max(72).optional() }).strict())
                .min(1)
                .max(10),
            })
            .strict(),
        )
        .min(1)
        .max(10)
        .refine((s) => s.reduce((n, x) => n + x.rows.length, 0) <= 10, 'a list has at most 10 rows in all'),
    })
    .strict(),
  z.object({ type: z.literal('cta_url'), ...common, displayText: z.string().min(1).max(20), url: z.url({ protocol: /^https?$/ }).max(2000) }).strict(),
  z
    .object({
      type: z.literal('flow'),
      ...common,
      flowId: z.string().regex(/^\d{1,32}$/),
      flowCta: z.string().min(1).max(30),
      flowToken: z.string().min(1).max(1000).optional(),
      flowAction: z.enum(['navigate', 'data_exchange']).default('navigate'),
      screen: z.string().min(1).max(100).optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);
export type InteractiveContent = z.infer<typeof interactiveContent>;

export const contactCard = z
  .object({
    name: z.object({ formattedName: z.string().min(1).max(200), firstName: z.string().max(100).optional(), lastName: z.string().max(100).optional() }).strict(),
    phones: z
      .array(z.object({ phone: z.string().min(1).max(32), type: z.string().max(20).optional(), waId: z.string().max(20).optional() }).strict())
      .max(5)
      .optional(),
    emails: z
      .array(z.object({ email: z.string().min(3).max(200), type: z.string().max(20).optional() }).strict())
      .max(5)
      .optional(),
    org: z
      .object({ company: z.string().max(200).optional(), title: z.string().max(200).optional() })
      .strict()
      .optional(),
    urls: z
      .array(z.object({ url: z.string().min(1).max(2000), type: z.string().max(20).optional() }).strict())
      .max(5)
      .optional(),
  })
  .strict();
export type ContactCard = z.infer<typeof contactCard>;

export const freeFormContent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: textContent.strict() }).strict(),
  z.object({ type: z.literal('image'), image: mediaRef }).strict(),
  z.object({ type: z.literal('video'), video: mediaRef }).strict(),
  z.object({ type: z.literal('audio'), audio: mediaRef }).strict(),
  z.object({ type: z.literal('document'), document: mediaRef }).strict(),
  z.object({ type: z.literal('sticker'), sticker: mediaRef }).strict(),
  z.object({ type: z.literal('location'), location: locationValue }).strict(),
  z.object({ type: z.literal('contacts'), contacts: z.array(contactCard).min(1).max(10) }).strict(),
  z.object({ type: z.literal('interactive'), interactive: interactiveContent }).strict(),
  z
    .object({
      type: z.literal('reaction'),
      reaction: z.object({ messageId: z.string().min(1).max(200), emoji: z.string().max(16).describe('empty removes the reaction') }).strict(),
    })
    .strict(),
]);
export type FreeFormContent = z.infer<typeof freeFormContent>;
