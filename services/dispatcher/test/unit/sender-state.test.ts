import { describe, expect, it } from 'vitest';
import { cappedThroughput, mergePhoneState } from '../../src/domain/sender-state';

describe('sender state from stored records', () => {
  it('falls back to the catalogue when nothing is stored', () => {
    expect(mergePhoneState(80, [undefined, undefined])).toEqual({ throughputMps: { value: 80, source: 'catalogue' } });
  });

  it('a webhook stored by display number (THROUGHPUT_UPGRADE) wins over an older Graph API read by id', () => {
    const byId = { quality: 'GREEN', throughputMps: 80, updatedAt: '2026-12-01T00:00:00.000Z', source: 'graph_api' };
    const byDisplay = {
      quality: 'UNKNOWN',
      event: 'THROUGHPUT_UPGRADE',
      throughputMps: 1_000,
      throughputAt: '2026-12-02T00:00:00.000Z',
      updatedAt: '2026-12-02T00:00:00.000Z',
      source: 'webhook',
    };
    expect(mergePhoneState(80, [byId, byDisplay])).toEqual({
      throughputMps: { value: 1_000, source: 'webhook', at: '2026-12-02T00:00:00.000Z', event: 'THROUGHPUT_UPGRADE' },
      quality: { value: 'GREEN', source: 'graph_api', at: '2026-12-01T00:00:00.000Z' },
    });
  });

  it('each value keeps its own source after a merge (a FLAGGED after an upgrade)', () => {
    const merged = {
      quality: 'RED',
      qualityAt: '2026-12-03T00:00:00.000Z',
      event: 'FLAGGED',
      throughputMps: 1_000,
      throughputAt: '2026-12-02T00:00:00.000Z',
      throughputSource: 'webhook',
      updatedAt: '2026-12-03T00:00:00.000Z',
      source: 'webhook',
    };
    const state = mergePhoneState(80, [undefined, merged]);
    expect(state.throughputMps).toEqual({ value: 1_000, source: 'webhook', at: '2026-12-02T00:00:00.000Z' });
    expect(state.quality).toEqual({ value: 'RED', source: 'webhook', at: '2026-12-03T00:00:00.000Z', event: 'FLAGGED' });
  });

  it('a newer Graph API read (STANDARD) replaces an older webhook upgrade', () => {
    const byDisplay = { event: 'THROUGHPUT_UPGRADE', quality: 'UNKNOWN', throughputMps: 1_000, updatedAt: '2026-12-02T00:00:00.000Z', source: 'webhook' };
    const byId = { quality: 'YELLOW', throughputMps: 80, updatedAt: '2026-12-04T00:00:00.000Z', source: 'graph_api' };
    expect(mergePhoneState(80, [byId, byDisplay]).throughputMps).toEqual({ value: 80, source: 'graph_api', at: '2026-12-04T00:00:00.000Z' });
  });
});

// Meta's levels are 20, 80 and 1,000 msg/s (https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput);
// a deployment that wants another rate from a number sets the catalogue's ceiling.
describe('the catalogue ceiling (maxThroughputMps)', () => {
  it("paces at Meta's rate under the ceiling, at the ceiling above it, and at Meta's rate without one", () => {
    expect(cappedThroughput(1_000, 250)).toBe(250);
    expect(cappedThroughput(80, 250)).toBe(80);
    expect(cappedThroughput(1_000, undefined)).toBe(1_000);
  });
});
