import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../src/backoff';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 250, maxMs: 10_000 };

  it('doubles the ceiling per retry up to the cap (random = 1 gives the ceiling)', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 9, 500].map((r) => backoffDelayMs(r, policy, () => 1))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000,
    ]);
  });

  it('full jitter (the default) draws over [0, ceiling)', () => {
    const opts = { baseMs: 1_000, maxMs: 30_000 };
    expect(backoffDelayMs(0, opts, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, opts, () => 0.5)).toBe(4_000);
    expect(backoffDelayMs(20, opts, () => 0.999)).toBe(29_970);
    expect(backoffDelayMs(5, opts, () => 0)).toBe(0);
  });

  it('a floor keeps a jittered delay from falling below it', () => {
    expect(backoffDelayMs(4, { ...policy, minMs: 250 }, () => 0.5)).toBe(2_000);
    expect(backoffDelayMs(4, { ...policy, minMs: 250 }, () => 0)).toBe(250);
  });

  it('equal jitter stays within [ceiling/2, ceiling)', () => {
    const equal = { baseMs: 100, maxMs: 5_000, jitter: 'equal' as const };
    expect(backoffDelayMs(2, equal, () => 0)).toBe(200);
    expect(backoffDelayMs(2, equal, () => 0.5)).toBe(300);
    expect(backoffDelayMs(10, equal, () => 0.999)).toBe(4_997);
  });

  it('no jitter gives the ceiling, with any growth factor', () => {
    expect(backoffDelayMs(3, { baseMs: 500, maxMs: 10_000, jitter: 'none' }, () => 0)).toBe(4_000);
    expect([0, 1, 2, 3].map((r) => backoffDelayMs(r, { baseMs: 1_000, maxMs: 20_000, factor: 3, jitter: 'none' }))).toEqual([1_000, 3_000, 9_000, 20_000]);
  });

  it('treats a negative retry as the first and never overflows on huge ones', () => {
    expect(backoffDelayMs(-3, { ...policy, jitter: 'none' })).toBe(250);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, { ...policy, jitter: 'none' })).toBe(10_000);
  });

  it('uses Math.random by default and stays within bounds', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(3, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(2_000);
    }
  });
});
