import { z } from 'zod';
import { isoDateTime } from './common';

/**
 * A webhook delivery exactly as Meta sent it (topic `wa.webhooks.raw`): the body bytes in base64
 * so the signature can be re-verified and nothing is lost to re-serialisation.
 */
export const webhookRawV1 = z
  .object({
    v: z.literal(1),
    deliveryId: z.string().describe('sha256 of the body: the same payload redelivered has the same id'),
    receivedAt: isoDateTime,
    bodyBase64: z.string(),
    contentType: z.string().nullable(),
    signature: z.string().nullable().describe('the X-Hub-Signature-256 header as received'),
    secretId: z.string().describe('which configured app secret verified the signature'),
    isJson: z.boolean(),
    userAgent: z.string().nullable(),
  })
  .strict();
export type WebhookRawV1 = z.infer<typeof webhookRawV1>;
