import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from '../src/config';
import { hashRecipient } from '../src/phone';

describe('recipient hashes are keyed (HMAC-SHA256), not a salted plain hash', () => {
  const key = 'k'.repeat(32);
  it('hashRecipient is HMAC-SHA256(key, number), not sha256(salt + number) (which enumerating the number space reverses)', () => {
    expect(hashRecipient('447911123456', key)).toBe(createHmac('sha256', key).update('447911123456').digest('base64url').slice(0, 22));
    expect(hashRecipient('447911123456', key)).not.toBe(createHash('sha256').update(key).update(':').update('447911123456').digest('base64url').slice(0, 22));
  });

  it('env.secretKey refuses a missing or short key and names the variable', () => {
    const schema = z.object({ RECIPIENT_HASH_SALT: env.secretKey('hash key') });
    for (const value of [undefined, '', 'salt', 'x'.repeat(31)]) {
      expect(() => loadConfig(schema, { RECIPIENT_HASH_SALT: value }), String(value)).toThrow(ConfigError);
      try {
        loadConfig(schema, { RECIPIENT_HASH_SALT: value });
      } catch (err) {
        expect((err as ConfigError).problems[0]).toMatch(/^RECIPIENT_HASH_SALT: /);
        expect((err as Error).message).not.toContain('x'.repeat(31));
      }
    }
    expect(loadConfig(schema, { RECIPIENT_HASH_SALT: 'x'.repeat(32) }).RECIPIENT_HASH_SALT).toBe('x'.repeat(32));
  });
});
