import { createHash } from 'node:crypto';
import type { WebhookRawV1 } from '@wa/shared/contracts/webhook-raw';

/** sha256 of the exact body: a redelivery of the same bytes gets the same id. */
export function deliveryIdOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Cheap pre-check before JSON.parse: a Meta payload is an object. */
export function isJsonBody(body: Buffer): boolean {
  if (body.length === 0) return false;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export interface RawRequest {
  body: Buffer;
  contentType: string | undefined;
  signature: string | undefined;
  userAgent: string | undefined;
  secretId: string;
  receivedAt: Date;
}

/** The record stored on wa.webhooks.raw: the bytes as received plus what is needed to re-verify them. */
export function buildRawRecord(req: RawRequest): WebhookRawV1 {
  return {
    v: 1,
    deliveryId: deliveryIdOf(req.body),
    receivedAt: req.receivedAt.toISOString(),
    bodyBase64: req.body.toString('base64'),
    contentType: req.contentType ?? null,
    signature: req.signature ?? null,
    secretId: req.secretId,
    isJson: isJsonBody(req.body),
    userAgent: req.userAgent ?? null,
  };
}
