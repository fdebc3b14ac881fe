import { z } from 'zod';

/** ISO-8601 timestamp with offset, as every envelope carries it. */
export const isoDateTime = z.iso.datetime({ offset: true });

/** E.164 digits without the plus sign, as Meta's `to` and `wa_id` fields carry them. */
export const waId = z.string().regex(/^[1-9]\d{6,14}$/, 'must be E.164 digits without "+" (7 to 15 digits)');

export const templateCategory = z.enum(['marketing', 'utility', 'authentication']);
export type TemplateCategory = z.infer<typeof templateCategory>;

/** Category of a message as priced by Meta; free-form content inside a service window is `service`. */
export const messageCategory = z.enum(['marketing', 'utility', 'authentication', 'service']);
export type MessageCategory = z.infer<typeof messageCategory>;

/**
 * Priority lanes. Each lane is its own dispatch topic so that an OTP never queues behind a
 * marketing blast in the same partition; the dispatcher serves lanes in this order.
 */
export const lane = z.enum(['auth', 'utility', 'marketing']);
export type Lane = z.infer<typeof lane>;
export const LANES_BY_PRIORITY: readonly Lane[] = ['auth', 'utility', 'marketing'];

export function laneForCategory(category: MessageCategory): Lane {
  if (category === 'authentication') return 'auth';
  if (category === 'marketing') return 'marketing';
  return 'utility';
}

/** Free-form metadata carried through to analytics; flat and small on purpose. */
export const metadata = z
  .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()]))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata keys');

/** A parameter of a template button (URL suffix, quick-reply payload or copy-code value). */
export const buttonParam = z.object({
  index: z.number().int().min(0).max(9),
  subType: z.enum(['url', 'quick_reply', 'copy_code']),
  text: z.string().min(1).max(2000),
});

export const templateRef = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'template names are lower-case letters, digits and underscores'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'language code like "en" or "en_US"'),
  category: templateCategory,
  headerParams: z.array(z.string().max(1024)).max(1).optional(),
  bodyParams: z.array(z.string().max(1024)).max(100).optional(),
  buttonParams: z.array(buttonParam).max(10).optional(),
});
export type TemplateRef = z.infer<typeof templateRef>;

export const textContent = z.object({
  body: z.string().min(1).max(4096),
  previewUrl: z.boolean().optional(),
});
export type TextContent = z.infer<typeof textContent>;

export const sender = z.union([
  z.object({ phoneNumberId: z.string().regex(/^\d{1,32}$/, 'phone number ids are digits') }).strict(),
  z.object({ pool: z.string().min(1).max(64) }).strict(),
]);
export type Sender = z.infer<typeof sender>;
