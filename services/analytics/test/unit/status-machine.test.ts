import { describe, expect, it } from 'vitest';
import { applyStatus, currentStatus, deliveredAtMs, INITIAL_STATE, isDelivered, type StatusInput } from '../../src/domain/status-machine';
import { createLatencyTracker } from '../../src/domain/latency-tracker';

const fold = (events: StatusInput[]) => events.reduce(applyStatus, INITIAL_STATE);
const permutations = <T>(xs: T[]): T[][] =>
  xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

describe('status state machine', () => {
  it('moves forward sent → delivered → read', () => {
    const s = fold([
      { status: 'sent', atMs: 1 },
      { status: 'delivered', atMs: 2 },
      { status: 'read', atMs: 3 },
    ]);
    expect(currentStatus(s)).toBe('read');
    expect(isDelivered(s)).toBe(true);
    expect(deliveredAtMs(s)).toBe(2);
  });

  it('gives the same state for every arrival order, with duplicates', () => {
    const events = [
      { status: 'sent', atMs: 10 },
      { status: 'delivered', atMs: 20 },
      { status: 'read', atMs: 30 },
      { status: 'delivered', atMs: 20 },
    ];
    const expected = fold(events);
    for (const order of permutations(events)) expect(fold(order)).toEqual(expected);
    expect(currentStatus(expected)).toBe('read');
  });

  it('never goes back: read then delivered stays read, and a late sent changes nothing', () => {
    const s = fold([
      { status: 'read', atMs: 30 },
      { status: 'delivered', atMs: 20 },
      { status: 'sent', atMs: 10 },
    ]);
    expect(currentStatus(s)).toBe('read');
    expect(s.firstAt).toEqual({ read: 30, delivered: 20, sent: 10 });
  });

  it('treats read as delivered when delivered is skipped', () => {
    const s = fold([
      { status: 'sent', atMs: 1 },
      { status: 'read', atMs: 5 },
    ]);
    expect(isDelivered(s)).toBe(true);
    expect(deliveredAtMs(s)).toBe(5);
  });

  it('keeps failed terminal for the attempt, even when delivered arrives after it', () => {
    const s = fold([
      { status: 'sent', atMs: 1 },
      { status: 'failed', atMs: 2 },
      { status: 'delivered', atMs: 3 },
    ]);
    expect(currentStatus(s)).toBe('failed');
    expect(isDelivered(s)).toBe(false);
  });

  it('lets a new attempt start afresh after a failure and ignores stale attempts', () => {
    let s = fold([{ status: 'failed', atMs: 2, attempt: 0 }]);
    s = applyStatus(s, { status: 'sent', atMs: 5, attempt: 1 });
    expect(currentStatus(s)).toBe('sent');
    s = applyStatus(s, { status: 'failed', atMs: 6, attempt: 0 });
    expect(currentStatus(s)).toBe('sent');
    s = applyStatus(s, { status: 'delivered', atMs: 7, attempt: 1 });
    expect(currentStatus(s)).toBe('delivered');
  });

  it('ignores statuses without delivery progress', () => {
    const s = fold([
      { status: 'sent', atMs: 1 },
      { status: 'deleted', atMs: 2 },
      { status: 'warning', atMs: 3 },
    ]);
    expect(currentStatus(s)).toBe('sent');
  });
});

describe('request → delivered latency tracker', () => {
  it('observes once, whichever of acceptance and delivery arrives first', () => {
    const t = createLatencyTracker();
    expect(t.status('w1', 'delivered', 5_000)).toBeUndefined();
    expect(t.accepted('w1', 1_000)).toBe(4);
    expect(t.status('w1', 'read', 9_000)).toBeUndefined();
    expect(t.status('w1', 'delivered', 5_000)).toBeUndefined();
  });

  it('uses read when delivered was skipped and never observes a failed message', () => {
    const t = createLatencyTracker();
    t.accepted('a', 0);
    expect(t.status('a', 'read', 2_500)).toBe(2.5);
    t.accepted('b', 0);
    t.status('b', 'failed', 1_000);
    expect(t.status('b', 'delivered', 2_000)).toBeUndefined();
  });

  it('stays within its capacity and keeps the most recent messages', () => {
    const t = createLatencyTracker(4);
    for (const w of ['a', 'b', 'c', 'd', 'e']) t.accepted(w, 0);
    expect(t.size).toBeLessThanOrEqual(4);
    expect(t.status('e', 'delivered', 1_000)).toBe(1);
    expect(t.status('d', 'delivered', 2_000)).toBe(2);
    expect(t.status('a', 'delivered', 3_000)).toBeUndefined(); // evicted: its request time is gone
  });
});
