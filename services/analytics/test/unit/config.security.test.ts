import { describe, expect, it } from 'vitest';
import { ConfigError } from '@wa/shared/config';
import { hashRecipient } from '@wa/shared/phone';
import { TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { loadAnalyticsConfig } from '../../src/config';
import { createRowMapper } from '../../src/domain/rows';
import { createRateCard } from '../../src/domain/rate-card';
import { otherEvents } from '../fixtures/events';

describe('analytics: the recipient hash key is required', () => {
  it('refuses to start without RECIPIENT_HASH_SALT or with one shorter than 32 bytes, naming the variable (no built-in fallback)', () => {
    for (const value of [undefined, 'test-salt-analytics']) {
      let error: unknown;
      try {
        loadAnalyticsConfig({ RECIPIENT_HASH_SALT: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.some((p) => p.startsWith('RECIPIENT_HASH_SALT:'))).toBe(true);
    }
    expect(loadAnalyticsConfig({ RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY }).RECIPIENT_HASH_SALT).toBe(TEST_RECIPIENT_HASH_KEY);
  });

  it('inbound rows carry the keyed hash of the sender, never the number', () => {
    const mapper = createRowMapper({ salt: TEST_RECIPIENT_HASH_KEY, rateCard: () => createRateCard([]) });
    const event = otherEvents().inbound;
    const row = mapper.inbound(event) as Record<string, unknown>;
    expect(Object.values(row)).toContain(hashRecipient(event.from, TEST_RECIPIENT_HASH_KEY));
    expect(JSON.stringify(row)).not.toContain(event.from);
  });
});
