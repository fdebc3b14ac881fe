import { describe, expect, it } from 'vitest';
import { ConfigError } from '@wa/shared/config';
import { loadWebhookConfig } from '../../src/config';

const base = { WEBHOOK_APP_SECRETS: 'k1=s3cret', WEBHOOK_VERIFY_TOKEN: 'tok' };

describe('webhook roles (receiver / normaliser)', () => {
  it('runs both by default, and either one alone when the other is switched off', () => {
    const both = loadWebhookConfig(base);
    expect([both.WEBHOOK_RECEIVER_ENABLED, both.NORMALISER_ENABLED]).toEqual([true, true]);
    const receiver = loadWebhookConfig({ ...base, NORMALISER_ENABLED: 'false' });
    expect([receiver.WEBHOOK_RECEIVER_ENABLED, receiver.NORMALISER_ENABLED]).toEqual([true, false]);
    const normaliser = loadWebhookConfig({ ...base, WEBHOOK_RECEIVER_ENABLED: 'false' });
    expect([normaliser.WEBHOOK_RECEIVER_ENABLED, normaliser.NORMALISER_ENABLED]).toEqual([false, true]);
  });

  it('refuses a process with neither role, naming both variables', () => {
    const load = () => loadWebhookConfig({ ...base, WEBHOOK_RECEIVER_ENABLED: 'false', NORMALISER_ENABLED: 'false' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/WEBHOOK_RECEIVER_ENABLED and NORMALISER_ENABLED/);
  });
});
