import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from '../src/limits';
import { describeThrottle } from '../src/send-limits';

describe('130429 explained', () => {
  it('keeps the refused window: how many, how long ago the oldest, the densest 50 ms', () => {
    const limiter = new SlidingWindowLimiter(4, 1_000);
    for (const t of [0, 10, 20, 990]) expect(limiter.tryAcquire(t)).toBe(true);
    expect(limiter.tryAcquire(995)).toBe(false);
    const event = describeThrottle('1', 995, limiter.inWindow(995));
    expect(event).toEqual({ phoneNumberId: '1', atMs: 995, inWindow: 4, oldestAgoMs: 995, densest50Ms: 3 });
  });

  it('an evenly paced window a few ms short shows no burst', () => {
    const stamps = Array.from({ length: 80 }, (_, i) => i * 12.4);
    expect(describeThrottle('1', 990, stamps)).toMatchObject({ inWindow: 80, oldestAgoMs: 990, densest50Ms: 5 });
  });
});
