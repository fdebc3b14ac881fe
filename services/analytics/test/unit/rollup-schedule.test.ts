import { describe, expect, it } from 'vitest';
import { rollupRestMs } from '../../src/domain/rollup-schedule';

describe('rollupRestMs', () => {
  it('starts refreshes an interval apart while they are short', () => {
    expect(rollupRestMs(10_000, 300, 0.25)).toBe(9_700);
    expect(rollupRestMs(10_000, 0, 0.25)).toBe(10_000);
  });

  it('rests long enough that refreshing takes at most the busy fraction once refreshes grow', () => {
    // 4 s of refresh at 25 %: 12 s of rest, one refresh per 16 s.
    expect(rollupRestMs(10_000, 4_000, 0.25)).toBe(12_000);
    const duration = 30_000;
    const rest = rollupRestMs(10_000, duration, 0.25);
    expect(duration / (duration + rest)).toBeCloseTo(0.25, 5);
  });

  it('with a fraction of 1 only the interval applies, and never waits less than nothing', () => {
    expect(rollupRestMs(10_000, 4_000, 1)).toBe(6_000);
    expect(rollupRestMs(10_000, 25_000, 1)).toBe(0);
    expect(rollupRestMs(10_000, -5, 0.5)).toBe(10_000);
  });
});
