import { describe, expect, it } from 'vitest';
import { ConfigError } from '@wa/shared/config';
import { TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { loadDispatcherConfig } from '../../src/config';

const base = { CATALOG_PATH: 'config/catalog.example.json', WA_ACCESS_TOKENS: '1=t', ADMIN_TOKEN: 'admin-token-for-tests' };

describe('dispatcher: the recipient hash key is required and long enough', () => {
  it('refuses a missing key or one shorter than 32 bytes, naming RECIPIENT_HASH_SALT', () => {
    for (const value of [undefined, 'salt', 'x'.repeat(31)]) {
      let error: unknown;
      try {
        loadDispatcherConfig({ ...base, RECIPIENT_HASH_SALT: value });
      } catch (err) {
        error = err;
      }
      expect(error, String(value)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.some((p) => p.startsWith('RECIPIENT_HASH_SALT:'))).toBe(true);
    }
    expect(loadDispatcherConfig({ ...base, RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY }).RECIPIENT_HASH_SALT).toBe(TEST_RECIPIENT_HASH_KEY);
  });
});
