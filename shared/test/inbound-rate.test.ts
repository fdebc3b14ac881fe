import { describe, expect, it } from 'vitest';
import { INBOUND_RATE_BUCKET_MS, inboundBurst, inboundRateBucket, inboundRateFromBuckets } from '../src/inbound-rate';

const T0 = 1_800_000_000_000; // a bucket boundary (divisible by 5,000)

describe('inbound rate of a number', () => {
  it('is the higher of the last 30 s and the last 10 s, whole buckets plus the current one', () => {
    const b = inboundRateBucket(T0);
    // Steady 4 msg/s for 30 s (20 per 5 s bucket) and 20 in the current bucket's first 5 s: 140 in 35 s.
    const steady = Object.fromEntries([...Array(7).keys()].map((i) => [String(b - 6 + i), '20']));
    expect(inboundRateFromBuckets(steady, T0 + 4_999).mps).toBeCloseTo(140 / 34.999, 3);
    // A rising rate: nothing until 10 s ago, then 60 per bucket: the 10 s view sees 180 / 15 s.
    const rising = { [b - 2]: 60, [b - 1]: 60, [b]: 60 };
    expect(inboundRateFromBuckets(rising, T0 + 5_000 - 1).mps).toBeCloseTo(180 / 14.999, 3);
  });

  it('ignores buckets older than 2 minutes, from the future beyond one bucket, and garbage', () => {
    const b = inboundRateBucket(T0);
    expect(inboundRateFromBuckets({ [b - 25]: 1_000, [b + 2]: 1_000, [b]: 'x', [b - 1]: -5 }, T0).mps).toBe(0);
    // One bucket ahead (Meta's clock a little ahead of ours) counts as current.
    expect(inboundRateFromBuckets({ [b + 1]: 10 }, T0).mps).toBeCloseTo(1, 9);
    expect(inboundRateFromBuckets({}, T0).mps).toBe(0);
  });

  it('holds the rate of the 30 s that ended with the newest count while no newer ones arrive (a stalled webhook path)', () => {
    const b = inboundRateBucket(T0);
    // 3 msg/s until 40 s ago, nothing since: the normaliser stopped counting (or people stopped replying).
    const stalled = Object.fromEntries([...Array(12).keys()].map((i) => [String(b - 8 - i), '15']));
    expect(inboundRateFromBuckets(stalled, T0)).toEqual({ mps: 3, held: true });
    // Rising when it stalled (1, 2, 3, 4 msg/s in its last 20 s): the last 10 s of it hold, 3.5 msg/s.
    const rising = { [b - 11]: 5, [b - 10]: 10, [b - 9]: 15, [b - 8]: 20 };
    expect(inboundRateFromBuckets(rising, T0).mps).toBeCloseTo(3.5, 9);
    // Counts in the previous bucket: not stalled, the last 30 s and 10 s decide.
    expect(inboundRateFromBuckets({ ...stalled, [b - 1]: 5 }, T0).mps).toBeCloseTo(5 / 10, 9);
    // Two minutes on, the hold ends.
    expect(inboundRateFromBuckets(stalled, T0 + 120_000).mps).toBe(0);
  });

  it('buckets by 5 s of the timestamp; the burst is three standard deviations of a Poisson count', () => {
    expect(inboundRateBucket(T0 + INBOUND_RATE_BUCKET_MS - 1)).toBe(inboundRateBucket(T0));
    expect(inboundRateBucket(T0 + INBOUND_RATE_BUCKET_MS)).toBe(inboundRateBucket(T0) + 1);
    expect(inboundBurst(0)).toBe(0);
    expect(inboundBurst(4)).toBe(6);
  });
});
