import { describe, expect, it } from 'vitest';
import { LoopLag } from '../src/loop-lag';

describe('LoopLag', () => {
  it('reports the longest stall that ended within the window', () => {
    const lag = new LoopLag(1_000);
    lag.sample(1_005); // on time
    lag.sample(1_090); // 80 ms late
    lag.sample(1_096); // 1 ms late
    expect(lag.maxWithin(1_000, 1_100)).toBe(80);
    expect(lag.maxWithin(1_000, 2_080)).toBe(80);
    expect(lag.maxWithin(1_000, 2_095)).toBe(1);
    expect(lag.maxWithin(1_000, 2_200)).toBe(0);
  });

  it('forgets samples older than it keeps', () => {
    const lag = new LoopLag(0);
    lag.sample(100); // 95 ms late
    for (let t = 105; t < 3_000; t += 5) lag.sample(t);
    expect(lag.maxWithin(10_000, 3_000)).toBe(0);
  });
});
