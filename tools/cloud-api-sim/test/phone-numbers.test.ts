import { describe, expect, it } from 'vitest';
import { throughputLevel } from '../src/phone-numbers';

// https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput: 80 msg/s by default,
// 1,000 after the automatic upgrade. A client pacing at the reported level must never exceed what the
// simulator enforces, so a non-Meta test rate (250) reports STANDARD, not HIGH.
describe('throughput level of the phone-number node', () => {
  it('is HIGH only for a number that really takes 1,000 msg/s', () => {
    expect(throughputLevel(1_000)).toBe('HIGH');
    expect(throughputLevel(250)).toBe('STANDARD');
    expect(throughputLevel(80)).toBe('STANDARD');
    expect(throughputLevel(20)).toBe('STANDARD');
  });
});
