import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from '../../src/domain/keywords';
import { normaliseWebhook } from '../../src/domain/normalise';
import { accountChanges, inboundChanges } from '../../src/domain/state-changes';
import * as f from '../fixtures';

const ctx = { deliveryId: 'd'.repeat(64), receivedAt: '2025-07-01T10:00:00.000Z' };
const T = 1_751_364_000;
const keywords = createKeywordMatcher({ optOut: ['STOP', 'ARRET'], optIn: ['START'] });

describe('state changes', () => {
  it('an inbound message opens the service window; STOP also opts out, START opts in', () => {
    const plain = normaliseWebhook(f.inboundText({ wamid: f.wamid(), from: '16505551234', text: 'hello', timestamp: T }), ctx).inbound[0]!;
    expect(inboundChanges(plain, keywords)).toEqual([
      { kind: 'service_window', phoneNumberId: f.PHONE_NUMBER_ID, waId: '16505551234', lastInboundMs: T * 1000 },
    ]);
    const stop = normaliseWebhook(f.inboundText({ wamid: f.wamid(), from: '16505551234', text: 'Arrêt', timestamp: T }), ctx).inbound[0]!;
    expect(inboundChanges(stop, keywords)[1]).toEqual({ kind: 'opt_out', wabaId: f.WABA_ID, waId: '16505551234', atMs: T * 1000 });
    const start = normaliseWebhook(f.inboundText({ wamid: f.wamid(), from: '16505551234', text: 'start', timestamp: T }), ctx).inbound[0]!;
    expect(inboundChanges(start, keywords)[1]?.kind).toBe('opt_in');
  });

  it('a quick-reply payload STOP opts out', () => {
    const e = normaliseWebhook(
      f.inboundButton({ wamid: f.wamid(), from: '16505551234', timestamp: T, text: 'Stop promotions', payload: 'STOP', contextWamid: 'w' }),
      ctx,
    ).inbound[0]!;
    expect(inboundChanges(e, keywords).map((c) => c.kind)).toEqual(['service_window', 'opt_out']);
  });

  it('a FLAGGED quality update with a tier sets quality RED and the messaging limit', () => {
    const e = normaliseWebhook(f.qualityUpdate({ event: 'FLAGGED', currentLimit: 'TIER_10K', time: T }), ctx).account[0]!;
    expect(accountChanges(e)).toEqual([
      { kind: 'messaging_limit', wabaId: f.WABA_ID, value: { limit: 10_000, event: 'FLAGGED', updatedAt: '2025-07-01T10:00:00.000Z', source: 'webhook' } },
      {
        kind: 'phone_quality',
        wabaId: f.WABA_ID,
        displayPhoneNumber: f.DISPLAY_NUMBER,
        value: { quality: 'RED', event: 'FLAGGED', updatedAt: '2025-07-01T10:00:00.000Z', qualityAt: '2025-07-01T10:00:00.000Z', source: 'webhook' },
      },
    ]);
  });

  it('an UPGRADE only changes the limit, not the stored quality', () => {
    const e = normaliseWebhook(f.qualityUpdate({ event: 'UPGRADE', currentLimit: 'TIER_100K', time: T }), ctx).account[0]!;
    expect(accountChanges(e).map((c) => c.kind)).toEqual(['messaging_limit']);
  });

  // Meta's example, verbatim: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
  const THROUGHPUT_UPGRADE = {
    entry: [
      {
        id: '102290129340398',
        time: 1748454394,
        changes: [
          {
            value: { display_phone_number: '15550783881', event: 'THROUGHPUT_UPGRADE', current_limit: 'TIER_UNLIMITED' },
            field: 'phone_number_quality_update',
          },
        ],
      },
    ],
    object: 'whatsapp_business_account',
  };

  it("Meta's THROUGHPUT_UPGRADE example lifts the number to 1,000 msg/s by display number and leaves the messaging limit alone", () => {
    const e = normaliseWebhook(THROUGHPUT_UPGRADE, ctx).account[0]!;
    expect(e).toMatchObject({ kind: 'phone_quality', event: 'THROUGHPUT_UPGRADE', displayPhoneNumber: '15550783881', throughputMps: 1_000 });
    expect(e.messagingLimit).toBeUndefined(); // TIER_UNLIMITED here names the throughput level, not an unlimited portfolio
    expect(accountChanges(e)).toEqual([
      {
        kind: 'phone_quality',
        wabaId: '102290129340398',
        displayPhoneNumber: '15550783881',
        value: {
          quality: 'UNKNOWN',
          event: 'THROUGHPUT_UPGRADE',
          updatedAt: '2025-05-28T17:46:34.000Z',
          throughputMps: 1_000,
          throughputAt: '2025-05-28T17:46:34.000Z',
          source: 'webhook',
        },
      },
    ]);
  });

  it('a messaging-limit change reads max_daily_conversations_per_business before the retiring current_limit', () => {
    const payload = f.envelope(
      [
        {
          field: 'phone_number_quality_update',
          value: {
            display_phone_number: f.DISPLAY_NUMBER,
            event: 'DOWNGRADE',
            old_limit: 'TIER_10K',
            current_limit: 'TIER_10K',
            max_daily_conversations_per_business: 'TIER_2K',
          },
        },
      ],
      { time: T },
    );
    const e = normaliseWebhook(payload, ctx).account[0]!;
    expect(e.messagingLimit).toBe(2_000);
    expect(e.throughputMps).toBeUndefined();
    expect(accountChanges(e).map((c) => c.kind)).toEqual(['messaging_limit']);
    const fifty = normaliseWebhook(f.qualityUpdate({ event: 'DOWNGRADE', currentLimit: 'TIER_50', time: T }), ctx).account[0]!;
    expect(fifty.messagingLimit).toBe(50);
  });

  it('template status and pricing tier updates', () => {
    const t = normaliseWebhook(f.templateStatusUpdate({ name: 'promo', language: 'es', event: 'DISABLED', time: T }), ctx).account[0]!;
    expect(accountChanges(t)).toEqual([{ kind: 'template_status', wabaId: f.WABA_ID, name: 'promo', language: 'es', status: 'DISABLED' }]);
    const p = normaliseWebhook(f.pricingTierUpdate({ time: T, tier: '25001:100000' }), ctx).account[0]!;
    expect(accountChanges(p)[0]).toMatchObject({ kind: 'pricing_tier', wabaId: f.WABA_ID, value: { event: 'VOLUME_BASED_PRICING_TIER_UPDATE' } });
  });
});
