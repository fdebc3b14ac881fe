import { describe, expect, it } from 'vitest';
import { PartitionProgress } from '../../src/domain/partition-progress';
import { createSendRoom, Fifo, SendRoomClosedError } from '../../src/domain/send-room';

describe('partition progress (commit watermark of a look-ahead consumer)', () => {
  it('commits the first offset whose job is not done, and past everything once all are done', () => {
    const p = new PartitionProgress();
    expect(p.commitOffset()).toBeUndefined();
    for (const o of [10, 11, 12, 13]) expect(p.take(o)).toBe(true);
    expect(p.commitOffset()).toBe(10);
    p.done(11);
    p.done(13);
    expect(p.commitOffset()).toBe(10); // 10 still running: nothing past it may be committed
    p.done(10);
    expect(p.commitOffset()).toBe(12);
    p.done(12);
    expect(p.commitOffset()).toBe(14);
    expect(p.inFlight).toBe(0);
  });

  it('skips gaps in the offsets (control records, compaction)', () => {
    const p = new PartitionProgress();
    p.take(5);
    p.take(7);
    p.done(5);
    expect(p.commitOffset()).toBe(7);
    p.done(7);
    expect(p.commitOffset()).toBe(8);
  });

  it('a record fetched again runs again only if it failed: running and done ones are skipped', () => {
    const p = new PartitionProgress();
    for (const o of [0, 1, 2, 3]) p.take(o);
    p.done(0);
    p.failed(1);
    p.done(3);
    // seek back to the watermark (1) and fetch 1..3 again
    expect(p.commitOffset()).toBe(1);
    expect(p.take(0)).toBe(false); // below the watermark: done
    expect(p.take(1)).toBe(true); // failed: again
    expect(p.take(2)).toBe(false); // still running
    expect(p.take(3)).toBe(false); // done
    expect(p.failedCount).toBe(0);
    p.done(1);
    expect(p.commitOffset()).toBe(2);
    p.done(2);
    expect(p.commitOffset()).toBe(4);
  });

  it('a failed record holds the watermark until it is done', () => {
    const p = new PartitionProgress();
    p.take(0);
    p.take(1);
    p.failed(0);
    p.done(1);
    expect(p.commitOffset()).toBe(0);
    expect(p.failedCount).toBe(1);
    expect(p.inFlight).toBe(0);
  });

  it('settling a record that is not running changes nothing (a late completion after a failure)', () => {
    const p = new PartitionProgress();
    p.take(0);
    p.done(0);
    p.failed(0);
    expect(p.commitOffset()).toBe(1);
    expect(p.inFlight).toBe(0);
  });

  it('keeps the watermark right over a long run (compaction of its index)', () => {
    const p = new PartitionProgress();
    for (let o = 0; o < 10_000; o++) p.take(o);
    for (let o = 0; o < 9_000; o++) p.done(o);
    expect(p.commitOffset()).toBe(9_000);
    for (let o = 9_999; o >= 9_000; o--) p.done(o);
    expect(p.commitOffset()).toBe(10_000);
  });
});

describe('send room (per-number admission into the send path)', () => {
  it('admits up to the capacity of each number; numbers do not share it', async () => {
    const room = createSendRoom(() => 2);
    const a1 = await room.enter('A', 'marketing');
    await room.enter('A', 'marketing');
    let third = false;
    const pending = room.enter('A', 'marketing').then((leave) => ((third = true), leave));
    await room.enter('B', 'marketing'); // another number is not held up by A's backlog
    await Promise.resolve();
    expect(third).toBe(false);
    expect(room.occupancy('A')).toEqual({ inside: 2, waiting: 1 });
    a1();
    a1(); // idempotent
    await pending;
    expect(third).toBe(true);
    expect(room.occupancy('A')).toEqual({ inside: 2, waiting: 0 });
  });

  it('admits waiters by lane priority, FIFO within a lane', async () => {
    const room = createSendRoom(() => 1);
    const first = await room.enter('A', 'marketing');
    const order: string[] = [];
    const waits = [
      room.enter('A', 'marketing').then((l) => (order.push('m1'), l())),
      room.enter('A', 'utility').then((l) => (order.push('u1'), l())),
      room.enter('A', 'auth').then((l) => (order.push('a1'), l())),
      room.enter('A', 'marketing').then((l) => (order.push('m2'), l())),
    ];
    first();
    await Promise.all(waits);
    expect(order).toEqual(['a1', 'u1', 'm1', 'm2']);
  });

  it('close turns away every waiting and later job; jobs inside go on', async () => {
    const room = createSendRoom(() => 1);
    const inside = await room.enter('A', 'auth');
    const waiting = room.enter('A', 'auth');
    room.close();
    await expect(waiting).rejects.toBeInstanceOf(SendRoomClosedError);
    await expect(room.enter('B', 'auth')).rejects.toBeInstanceOf(SendRoomClosedError);
    inside();
    expect(room.occupancy('A')).toEqual({ inside: 0, waiting: 0 });
  });

  it('a capacity that grows (a tier upgrade) admits more at the next leave', async () => {
    let capacity = 1;
    const room = createSendRoom(() => capacity);
    const first = await room.enter('A', 'auth');
    const admitted: number[] = [];
    const waits = [1, 2, 3].map((i) => room.enter('A', 'auth').then(() => admitted.push(i)));
    capacity = 3;
    first();
    await Promise.all(waits);
    expect(admitted).toEqual([1, 2, 3]);
  });
});

describe('Fifo', () => {
  it('keeps order across its compaction', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5_000; i++) q.push(i);
    for (let i = 0; i < 3_000; i++) expect(q.shift()).toBe(i);
    for (let i = 5_000; i < 6_000; i++) q.push(i);
    expect(q.length).toBe(3_000);
    for (let i = 3_000; i < 6_000; i++) expect(q.shift()).toBe(i);
    expect(q.shift()).toBeUndefined();
  });
});
