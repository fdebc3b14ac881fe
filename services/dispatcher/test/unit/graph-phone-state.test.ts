import { describe, expect, it } from 'vitest';
import { graphPhoneState } from '../../src/domain/graph-phone-state';

// https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
// https://developers.facebook.com/docs/whatsapp/messaging-limits
describe('phone-number node → sender state', () => {
  it('HIGH throughput is 1,000 msg/s; STANDARD keeps the configured rate up to 80', () => {
    expect(graphPhoneState({ throughput: { level: 'HIGH' }, id: '1' }, 80).throughputMps).toBe(1_000);
    expect(graphPhoneState({ throughput: { level: 'STANDARD' } }, 80).throughputMps).toBe(80);
    expect(graphPhoneState({ throughput: { level: 'STANDARD' } }, 20).throughputMps).toBe(20);
    expect(graphPhoneState({ throughput: { level: 'STANDARD' } }, 1_000).throughputMps).toBe(80);
    expect(graphPhoneState({ throughput: { level: 'SOMETHING_NEW' } }).throughputMps).toBeUndefined();
  });

  it('reads the quality rating, the portfolio limit (new field first), name and status', () => {
    expect(
      graphPhoneState({
        quality_rating: 'YELLOW',
        whatsapp_business_manager_messaging_limit: 'TIER_100K',
        messaging_limit_tier: 'TIER_2K',
        name_status: 'APPROVED',
        status: 'CONNECTED',
        display_phone_number: '15550783881',
      }),
    ).toEqual({ quality: 'YELLOW', messagingLimit: 100_000, nameStatus: 'APPROVED', status: 'CONNECTED', displayPhoneNumber: '15550783881' });
    expect(graphPhoneState({ messaging_limit_tier: 'TIER_UNLIMITED' }).messagingLimit).toBeNull();
    expect(graphPhoneState({ quality_rating: 'UNKNOWN' }).quality).toBeUndefined();
    expect(graphPhoneState(null)).toEqual({});
  });
});
