import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from '../src/limits';
import { describeThrottle, SendLimits } from '../src/send-limits';
import { parseScenario } from '../src/scenario';
import { buildWorld } from '../src/world';

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

describe('130429 explained, through the send limits', () => {
  it('counts the inbound messages among the refused window', () => {
    const scenario = parseScenario({});
    const world = buildWorld(scenario);
    const limits = new SendLimits(world, scenario.rules);
    const phone = world.phones[0]!;
    limits.inbound(phone, '15550001', false, 0);
    limits.inbound(phone, '15550002', false, 100);
    let accepted = 0;
    while (limits.tryThroughput(phone, 200 + accepted)) accepted++;
    expect(accepted).toBe(phone.throughputMps - 2);
    expect(limits.throttles()[0]).toMatchObject({ inWindow: phone.throughputMps, inboundInWindow: 2 });
    // A second later the inbound messages have left the window.
    expect([1_150, 1_150.5, 1_151].map((t) => limits.tryThroughput(phone, t))).toEqual([true, true, false]);
    expect(limits.throttles()[1]).toMatchObject({ inboundInWindow: 0 });
  });
});
