import { describe, expect, it } from 'vitest';
import { ReadSchedule, type ReadTask } from '../../src/domain/read-schedule';

const task = (wamid: string, phoneNumberId = '1001'): ReadTask => ({ wamid, phoneNumberId, wabaId: '9', attempt: 0 });
const ids = (tasks: ReadTask[]) => tasks.map((t) => t.wamid);

describe('ReadSchedule', () => {
  it('paces each number to one call per interval, numbers independently, in arrival order', () => {
    const s = new ReadSchedule({ intervalMs: 100, maxQueued: 10 });
    for (const w of ['a1', 'a2', 'a3']) s.offer(task(w));
    s.offer(task('b1', '1002'));
    expect(s.take(0)).toEqual({ due: [task('a1'), task('b1', '1002')], waitMs: 100 });
    expect(s.take(50)).toEqual({ due: [], waitMs: 50 });
    expect(ids(s.take(100).due)).toEqual(['a2']);
    expect(ids(s.take(199).due)).toEqual([]);
    expect(s.take(200)).toEqual({ due: [task('a3')], waitMs: undefined });
    expect(s.size).toBe(0);
  });

  it('holds a throttled number until its pause ends and puts its retry first', () => {
    const s = new ReadSchedule({ intervalMs: 10, maxQueued: 10 });
    s.offer(task('a1'));
    s.offer(task('a2'));
    s.take(0);
    s.pause('1001', 5_000);
    s.offer({ ...task('a1'), attempt: 1 }, true);
    expect(s.take(4_999)).toEqual({ due: [], waitMs: 1 });
    expect(s.take(5_000).due).toEqual([{ ...task('a1'), attempt: 1 }]);
    expect(ids(s.take(5_010).due)).toEqual(['a2']);
  });

  it('refuses work beyond its bound instead of growing', () => {
    const s = new ReadSchedule({ intervalMs: 10, maxQueued: 2 });
    expect([s.offer(task('a')), s.offer(task('b', '1002')), s.offer(task('c'))]).toEqual([true, true, false]);
    s.take(0);
    expect(s.offer(task('c'))).toBe(true);
  });
});
