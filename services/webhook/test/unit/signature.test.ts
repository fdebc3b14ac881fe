import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from '../../src/domain/signature';

const body = Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"name":"Jos\\u00e9"}');
const hmac = (b: Buffer, key: string) => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;

describe('verifySignature', () => {
  const secrets = [{ id: 'current', secret: 's3cret-current' }];

  it('accepts the HMAC-SHA256 of the exact bytes and names the secret', () => {
    expect(verifySignature(body, hmac(body, 's3cret-current'), secrets)).toEqual({ ok: true, secretId: 'current' });
    expect(signBody(body, 's3cret-current')).toBe(hmac(body, 's3cret-current'));
  });

  it('refuses a tampered body', () => {
    const tampered = Buffer.from(body.toString().replace('Jos\\u00e9', 'José'));
    expect(verifySignature(tampered, hmac(body, 's3cret-current'), secrets)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifySignature(body, hmac(body, 'someone-else'), secrets)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a missing or malformed header', () => {
    expect(verifySignature(body, undefined, secrets)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature(body, '', secrets)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature(body, 'sha1=abc', secrets)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(body, 'sha256=zz', secrets)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts either secret during a rotation and reports which matched', () => {
    const rotating = [
      { id: 'old', secret: 'old-secret' },
      { id: 'new', secret: 'new-secret' },
    ];
    expect(verifySignature(body, hmac(body, 'old-secret'), rotating)).toEqual({ ok: true, secretId: 'old' });
    expect(verifySignature(body, hmac(body, 'new-secret'), rotating)).toEqual({ ok: true, secretId: 'new' });
    expect(verifySignature(body, hmac(body, 'retired-secret'), rotating)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts an upper-case hex digest (header case is not normative)', () => {
    expect(verifySignature(body, hmac(body, 's3cret-current').toUpperCase().replace('SHA256=', 'sha256='), secrets)).toEqual({ ok: true, secretId: 'current' });
  });
});
