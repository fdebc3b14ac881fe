import { describe, expect, it } from 'vitest';
import { PairRateLimiter, PeakRateMeter, SlidingWindowLimiter, UniqueRecipientWindow } from '../src/limits';
import { MessageStore } from '../src/message-store';

describe('limit structures', () => {
  it('sliding window is exact at the boundary', () => {
    const l = new SlidingWindowLimiter(3, 1000);
    expect([0, 100, 200].map((t) => l.tryAcquire(t))).toEqual([true, true, true]);
    expect(l.tryAcquire(999)).toBe(false);
    expect(l.tryAcquire(1000)).toBe(true); // the event at 0 left the window (now - 1000, now]
    expect(l.tryAcquire(1050)).toBe(false);
  });

  it('peak meter finds the densest second', () => {
    const m = new PeakRateMeter(1000);
    for (const t of [0, 10, 20, 990, 1005, 1500, 1995, 2000, 2001]) m.record(t);
    expect(m.peak).toBe(5); // 1005, 1500, 1995, 2000, 2001 lie in (1001, 2001]
  });

  it('pair limiter forgets refilled buckets, so memory follows recent traffic', () => {
    const p = new PairRateLimiter(1, 1000);
    for (let i = 0; i < 1000; i++) expect(p.tryAcquire(`k${i}`, 10_000)).toBe(true);
    expect(p.size()).toBe(1000);
    p.tryAcquire('other', 20_000);
    expect(p.size()).toBe(1);
  });

  it('unique recipient window expires people after the window and refreshes re-contacted ones', () => {
    const u = new UniqueRecipientWindow(1000);
    expect(u.tryAdmit('a', 0, 2)).toBe(true);
    expect(u.tryAdmit('b', 500, 2)).toBe(true);
    expect(u.tryAdmit('c', 600, 2)).toBe(false);
    expect(u.tryAdmit('a', 900, 2)).toBe(true); // refreshes a
    expect(u.tryAdmit('c', 1600, 2)).toBe(true); // b expired at 1500
    expect(u.size(1800)).toBe(2); // a (900) and c
  });

  it('message store resolves its own wamids and rejects foreign ones', () => {
    const s = new MessageStore();
    const base = { phoneIdx: 1, acceptedAt: 5, messageType: 1, templateIdx: 2, category: 2, pricingType: 0, billable: true, convIdx: -1, failCode: 0 };
    for (let i = 0; i < 70_000; i++) s.add({ ...base, recipient: String(4_470_000_000_000 + i), bizOpaque: i === 69_999 || i === 3 ? 'dup' : undefined });
    const w = s.wamid(69_999);
    expect(s.indexOf(w)).toBe(69_999);
    expect(s.recipientOf(69_999)).toBe('4470000069999');
    const other = new MessageStore();
    other.add({ ...base, recipient: '4470000000000', bizOpaque: undefined });
    expect(s.indexOf(other.wamid(0))).toBe(-1);
    expect(s.indexOf('wamid.garbage')).toBe(-1);
    expect(s.duplicates()).toEqual([{ bizOpaqueCallbackData: 'dup', count: 2, wamids: [s.wamid(3), w] }]);
  });
});
