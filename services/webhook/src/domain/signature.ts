import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export interface SigningSecret {
  id: string;
  secret: string;
}

export type SignatureCheck = { ok: true; secretId: string } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

const HEADER_PREFIX = 'sha256=';
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

// An HMAC keyed with a KeyObject skips converting the secret string on every request.
const keys = new WeakMap<SigningSecret, KeyObject>();
function keyOf(secret: SigningSecret): KeyObject {
  let key = keys.get(secret);
  if (key === undefined) {
    key = createSecretKey(Buffer.from(secret.secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

/** `sha256=<hex>` over the exact bytes, as Meta computes `X-Hub-Signature-256`. */
export function signBody(body: Buffer | string, secret: string): string {
  return HEADER_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Verifies `X-Hub-Signature-256` against every configured secret (a rotation has two), comparing
 * digests in constant time. Every secret is tried even after a match so the time taken does not
 * reveal which one matched.
 */
export function verifySignature(body: Buffer, header: string | undefined, secrets: readonly SigningSecret[]): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  const trimmed = header.trim();
  if (!trimmed.toLowerCase().startsWith(HEADER_PREFIX)) return { ok: false, reason: 'malformed' };
  const hex = trimmed.slice(HEADER_PREFIX.length);
  if (!HEX_SHA256.test(hex)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(hex, 'hex');
  let matched: string | undefined;
  for (const secret of secrets) {
    const expected = createHmac('sha256', keyOf(secret)).update(body).digest();
    if (timingSafeEqual(expected, given) && matched === undefined) matched = secret.id;
  }
  return matched === undefined ? { ok: false, reason: 'mismatch' } : { ok: true, secretId: matched };
}
