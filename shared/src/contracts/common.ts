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

/** Meta's "currency" parameter: a localised amount with a fallback for old clients. */
export const currencyParam = z
  .object({
    type: z.literal('currency'),
    fallbackValue: z.string().min(1).max(1024),
    code: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code like "USD"'),
    amount1000: z.number().int().describe('amount times 1000 (e.g. 100990 for 100.99)'),
  })
  .strict();

/** Meta's "date_time" parameter: shown as given (fallback_value) by current clients. */
export const dateTimeParam = z.object({ type: z.literal('date_time'), fallbackValue: z.string().min(1).max(1024) }).strict();

/** One value for a `{{n}}` or `{{name}}` placeholder: plain text, currency or date_time. */
export const paramValue = z.union([z.string().max(1024), currencyParam, dateTimeParam]);
export type ParamValue = z.infer<typeof paramValue>;

/** Media by an uploaded media id, or by a public link (optionally uploaded once per campaign and sender: `upload`). */
export const mediaRef = z
  .object({
    id: z
      .string()
      .regex(/^\d{1,32}$/)
      .optional()
      .describe('media id from POST /{phone-number-id}/media'),
    link: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe('public http(s) URL Meta downloads'),
    upload: z
      .boolean()
      .optional()
      .describe(
        'with `link` in a campaign: the dispatcher downloads it once, uploads it through POST /{phone-number-id}/media and sends the media id to every recipient (re-uploaded before the 30-day expiry); sent by link if the upload fails',
      ),
    filename: z.string().max(240).optional().describe('documents only: the file name shown'),
    caption: z.string().max(1024).optional().describe('free-form media only'),
  })
  .strict()
  .refine((m) => (m.id === undefined) !== (m.link === undefined), 'give exactly one of `id` or `link`')
  .refine((m) => m.upload !== true || m.link !== undefined, { message: '`upload` needs a `link`', path: ['upload'] });
export type MediaRef = z.infer<typeof mediaRef>;

export const locationValue = z
  .object({
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    name: z.string().max(1000).optional(),
    address: z.string().max(1000).optional(),
  })
  .strict();
export type LocationValue = z.infer<typeof locationValue>;

/** The value of a template header: text (one parameter), media or location. */
export const headerValue = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('text'),
      text: z.string().max(1024),
      parameterName: z
        .string()
        .regex(/^[a-z0-9_]+$/)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('image'), image: mediaRef }).strict(),
  z.object({ type: z.literal('video'), video: mediaRef }).strict(),
  z.object({ type: z.literal('document'), document: mediaRef }).strict(),
  z.object({ type: z.literal('location'), location: locationValue }).strict(),
]);
export type HeaderValue = z.infer<typeof headerValue>;

const mpmSection = z.object({ title: z.string().min(1).max(24), productRetailerIds: z.array(z.string().min(1).max(100)).min(1).max(30) }).strict();

/**
 * A parameter of a template button, by its index in the template: the URL suffix (`url`), the
 * payload echoed back when tapped (`quick_reply`), the code to copy (`copy_code`), or the action of a
 * flow, catalog or multi-product (mpm) button. `text` is the value for url/quick_reply/copy_code.
 */
export const buttonParam = z.object({
  index: z.number().int().min(0).max(9),
  subType: z.enum(['url', 'quick_reply', 'copy_code', 'flow', 'catalog', 'mpm']),
  text: z.string().min(1).max(2000).optional(),
  flowToken: z.string().min(1).max(1000).optional(),
  flowActionData: z.record(z.string(), z.unknown()).optional(),
  thumbnailProductRetailerId: z.string().min(1).max(100).optional(),
  sections: z.array(mpmSection).min(1).max(10).optional(),
});
export type ButtonParam = z.infer<typeof buttonParam>;

/** One card of a carousel template: its media header and its own body and button parameters. */
export const carouselCard = z
  .object({
    header: headerValue,
    bodyParams: z.array(paramValue).max(100).optional(),
    buttonParams: z.array(buttonParam).max(2).optional(),
  })
  .strict();
export type CarouselCard = z.infer<typeof carouselCard>;

export const templateRef = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'template names are lower-case letters, digits and underscores'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'language code like "en" or "en_US"'),
  category: templateCategory,
  headerParams: z.array(z.string().max(1024)).max(1).optional().describe('text header parameter (shorthand for `header: {type: "text"}`)'),
  header: headerValue.optional().describe('header parameter: text, image, video, document or location'),
  bodyParams: z.array(paramValue).max(100).optional().describe('positional body parameters {{1}}, {{2}}, …'),
  namedParams: z
    .record(z.string().regex(/^[a-z0-9_]{1,64}$/), paramValue)
    .optional()
    .describe('named body parameters {{first_name}}, … (templates with parameter_format NAMED)'),
  buttonParams: z.array(buttonParam).max(10).optional(),
  cards: z.array(carouselCard).min(1).max(10).optional().describe('carousel templates: one entry per card, in card order'),
  limitedTimeOffer: z.object({ expirationTimeMs: z.number().int().positive() }).strict().optional().describe('limited-time offer templates with an expiry'),
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
