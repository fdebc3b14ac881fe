import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccountEventV1 } from '@wa/shared/contracts/events';
import { marketOfRegion, parseTier, volumeTierRow } from '../../src/domain/volume-tier';

// account_update VOLUME_BASED_PRICING_TIER_UPDATE, shaped as Meta documents it:
// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
const fixture = JSON.parse(readFileSync('shared/test/fixtures/meta/account-update-volume-tier.json', 'utf8')) as {
  payload: { entry: { id: string; changes: { value: Record<string, unknown> }[] }[] };
};
const metaValue = fixture.payload.entry[0]!.changes[0]!.value;

function event(value: unknown, over: Partial<AccountEventV1> = {}): AccountEventV1 {
  return {
    v: 1,
    eventId: 'ev-1',
    kind: 'account_update',
    field: 'account_update',
    wabaId: fixture.payload.entry[0]!.id,
    occurredAt: '2026-09-21T14:13:20.000Z',
    event: 'VOLUME_BASED_PRICING_TIER_UPDATE',
    value,
    receivedAt: '2026-09-21T14:13:21.000Z',
    deliveryId: 'd-1',
    ...over,
  };
}
const info = (over: Record<string, unknown>) => ({ ...metaValue, volume_tier_info: { ...(metaValue.volume_tier_info as object), ...over } });

describe('Meta volume tier announcements', () => {
  it("records Meta's example as the tier from message 25,001 of October 2026 for utility in India", () => {
    expect(volumeTierRow(event(metaValue))).toEqual({
      event_id: 'ev-1',
      waba_id: '102290129340398',
      region: 'India',
      market: 'IN',
      category: 'utility',
      effective_month: '2026-10-01',
      tier: '25001:100000',
      tier_first: 25001,
      tier_update_time: '2026-09-21T14:13:20.000Z',
      received_at: '2026-09-21T14:13:21.000Z',
    });
  });

  it('parses tier ranges, open-ended top tiers included, and rejects anything else', () => {
    expect(parseTier('1:25000')).toEqual({ first: 1, last: 25000 });
    expect(parseTier(' 100000001 : ')).toEqual({ first: 100000001, last: 0 });
    for (const bad of ['', '25001', '0:10', '10:5', 'a:b', '-1:5', '1:2:3']) expect(parseTier(bad)).toBeUndefined();
  });

  it("maps Meta's single-country regions to the card's ISO codes, and multi-country markets to none", () => {
    expect(marketOfRegion('India')).toBe('IN');
    expect(marketOfRegion('INDIA')).toBe('IN');
    expect(marketOfRegion('United Kingdom')).toBe('GB');
    expect(marketOfRegion('saudi-arabia')).toBe('SA');
    expect(marketOfRegion('br')).toBe('BR');
    expect(marketOfRegion('North America')).toBe('');
    expect(marketOfRegion('')).toBe('');
  });

  it('ignores other account events and tier updates missing what pricing needs', () => {
    expect(volumeTierRow(event(metaValue, { event: 'ACCOUNT_RESTRICTION' }))).toBeUndefined();
    expect(volumeTierRow(event({ event: 'VOLUME_BASED_PRICING_TIER_UPDATE' }))).toBeUndefined();
    expect(volumeTierRow(event(null))).toBeUndefined();
    expect(volumeTierRow(event(info({ tier: 'top' })))).toBeUndefined();
    expect(volumeTierRow(event(info({ effective_month: '2026-13' })))).toBeUndefined();
    expect(volumeTierRow(event(info({ pricing_category: 7 })))).toBeUndefined();
    expect(volumeTierRow(event(info({ tier_update_time: undefined })))).toBeUndefined();
    // Without a region the announcement is kept, but prices nothing (no market).
    expect(volumeTierRow(event(info({ region: undefined })))?.market).toBe('');
    expect(volumeTierRow(event(info({ tier_update_time: '1790000000' })))?.tier_update_time).toBe('2026-09-21T14:13:20.000Z');
  });
});
