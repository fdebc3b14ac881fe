import { describe, expect, it } from 'vitest';
import type { InboundRate } from '@wa/shared/inbound-rate';
import { ClockOffset } from '../../src/domain/clock-offset';
import { createSemaphore } from '../../src/domain/semaphore';
import { minimumGapMs } from '../../src/domain/pacing';
import { SendScheduler } from '../../src/domain/send-scheduler';
import { SenderRates } from '../../src/domain/sender-rates';
import type { LedgerClaim, Permits, SendPermit } from '../../src/ports';
import { FakeTime } from '../support/fake-time';
import { densestWithin, FakeGuard, GuardModel, windowKey } from '../support/guard-model';

/**
 * The rules of docs/dispatcher.md's "Pacing" section, one test each, on a fake clock: the scheduler
 * (domain/send-scheduler.ts) over the guard's model (test/support/guard-model.ts, checked against the
 * Lua on real Redis by send-guard-model.int.test.ts).
 */

const claim = (id: string): LedgerClaim => ({ key: `ledger:${id}`, value: '{"st":"claimed","a":0,"owner":"t","at":0}', attempt: 0, ttlMs: 60_000 });

interface Setup {
  limitOf: (id: string) => number;
  headroom?: number;
  inboundOf?: (id: string) => InboundRate;
  /** The guard's one-way latency. */
  oneWayMs?: number;
  connections?: Permits;
  /** Extra delay of the guard's replies only (a busy process reads them late). */
  replyDelayMs?: number;
  /** Another replica's: the same time and guard model. */
  with?: { time: FakeTime; model: GuardModel };
  name?: string;
}

function setup(o: Setup) {
  const time = o.with?.time ?? new FakeTime();
  const model = o.with?.model ?? new GuardModel();
  const guard = new FakeGuard(model, time, { oneWayMs: o.oneWayMs ?? 0, replyDelayMs: o.replyDelayMs ?? 0 });
  const name = o.name ?? 'r1';
  const scheduler = new SendScheduler({
    guard,
    timers: time,
    clock: time,
    headroomFraction: o.headroom ?? 0,
    decreaseFactor: 0.9,
    coolDownMs: 10_000,
    limitOf: o.limitOf,
    ...(o.inboundOf ? { inboundOf: o.inboundOf } : {}),
    memberPrefix: name,
    connections: o.connections,
  });
  let job = 0;
  /** Admission times of this replica, by number. */
  const admitted = new Map<string, number[]>();
  /** Admits the next job of `id` and records when. */
  const admit = async (id: string): Promise<SendPermit> => {
    const a = await scheduler.admit(id, claim(`${name}-${job++}`));
    if (!a.admitted) throw new Error('not admitted');
    let list = admitted.get(id);
    if (!list) admitted.set(id, (list = []));
    list.push(time.now());
    return a.permit;
  };
  return { time, model, guard, scheduler, admit, admitted };
}

/** Runs promises to completion on fake time; returns their results and the fake time it took. */
async function settleAll<T>(time: FakeTime, promises: Promise<T>[], maxMs = 30_000): Promise<{ results: T[]; tookMs: number }> {
  let results: T[] | undefined;
  void Promise.all(promises).then((r) => (results = r));
  const tookMs = await time.until(() => results !== undefined, maxMs);
  return { results: results!, tookMs };
}

const gaps = (times: readonly number[]) => times.slice(1).map((t, i) => t - times[i]!);

/**
 * Asks for `n` marketing sends of number N; returns the times they fire, as they do. close() at the end of a
 * test turns the sends still queued away: their rejections are expected.
 */
function acquireMany(scheduler: SendScheduler, time: FakeTime, n: number): number[] {
  const fired: number[] = [];
  for (let i = 0; i < n; i++)
    void scheduler.acquire('N', 'marketing').then(
      () => fired.push(time.now()),
      () => undefined,
    );
  return fired;
}

describe('pacing rules (docs/dispatcher.md "Pacing"), on a fake clock', () => {
  it("inbound messages: sends pace below the limit by the number's inbound rate and its burst, and known ones take slots", async () => {
    // People send 4 msg/s to an 80 msg/s number: paced at 80 - (4 + 3·√4) = 70, the guard's cap at 72.
    const { time, scheduler, model } = setup({ limitOf: () => 80, headroom: 0.05, inboundOf: () => ({ mps: 4, held: false }) });
    expect(scheduler.rateOf('N')).toMatchObject({ targetMps: 70, inboundMps: 4 });
    const fired = acquireMany(scheduler, time, 400);
    await time.advance(2_000);
    expect(densestWithin(fired, 999)).toBeLessThanOrEqual(71);
    expect(densestWithin(fired, 999)).toBeGreaterThanOrEqual(69);
    // Ten inbound messages the normaliser just put in the window: the next second holds 72 - 10 sends at most.
    const at = time.now();
    for (let i = 0; i < 10; i++) model.add(windowKey('N'), `in:wamid.${i}`, at);
    const before = fired.length;
    await time.advance(1_000);
    const window = model.sorted(windowKey('N')).filter(([m, t]) => !m.startsWith('in:') && t > at && t <= at + 1_000);
    expect(window.length).toBeLessThanOrEqual(62);
    expect(fired.length - before).toBeGreaterThan(50);
    scheduler.close();
  });

  it('GCRA slots space sends evenly at limit × (1 − headroom) × adaptive factor', async () => {
    const { time, scheduler } = setup({ limitOf: () => 100, headroom: 0.02 });
    const fired = acquireMany(scheduler, time, 400);
    await time.advance(2_000);
    // 98 msg/s: a slot every 10.2 ms, each within 1 ms of it (timers wait whole ms).
    const slot = 1_000 / 98;
    expect(Math.min(...gaps(fired))).toBeGreaterThan(slot - 1);
    expect(Math.max(...gaps(fired))).toBeLessThan(slot + 1);
    expect(densestWithin(fired, 998)).toBe(98); // timers fire on whole ms: ±1 ms
    scheduler.onThrottle('N');
    expect(scheduler.rateOf('N')).toEqual({ targetMps: 98 * 0.9, limitMps: 100, factor: 0.9, inboundMps: 0, inboundHeld: false });
    const throttledFrom = fired.length;
    await time.advance(1_000);
    // Slots already reserved (100 ms ahead) keep their place; then a slot every 11.3 ms.
    const slower = fired.slice(throttledFrom + 12);
    expect(Math.min(...gaps(slower))).toBeGreaterThan(slot / 0.9 - 1);
    expect(Math.max(...gaps(slower))).toBeLessThan(slot / 0.9 + 1);
    expect(((slower.length - 1) * 1_000) / (slower.at(-1)! - slower[0]!)).toBeCloseTo(98 * 0.9, 0);
    scheduler.close();
  });

  it('slots are reserved at most 100 ms ahead and handed out auth → utility → marketing, so a new OTP overtakes queued marketing within ~100-200 ms', async () => {
    const { time, scheduler } = setup({ limitOf: () => 80 });
    const fired: string[] = [];
    for (let i = 0; i < 200; i++)
      void scheduler.acquire('N', 'marketing').then(
        () => fired.push('marketing'),
        () => undefined,
      );
    await time.advance(500);
    const utility = scheduler.acquire('N', 'utility').then(() => fired.push('utility'));
    const auth = scheduler.acquire('N', 'auth').then(() => fired.push('auth'));
    const { tookMs } = await settleAll(time, [auth, utility]);
    // It waits for the next batch's reservation (a batch covers ~100 ms), whose first slot is up to 100 ms ahead.
    expect(tookMs).toBeLessThanOrEqual(200 + 12.5);
    expect(fired.slice(-2)).toEqual(['auth', 'utility']);
    expect(fired.length).toBeLessThan(100);
    scheduler.close();
  });

  it('a reservation that comes late may still take slots up to 250 ms in the past; an idle or new number starts without credit', () => {
    const m = new GuardModel();
    expect(m.gcraReserve('k', '10.0000', 10, 250, 1_000)).toBe('1000.000|1000.000');
    // 200 ms past its next slot (1,100), a stalled process still takes the slots from there: catch-up.
    expect(m.gcraReserve('k', '10.0000', 5, 250, 1_300)).toBe('1100.000|1300.000');
    // Idle for longer (its next slot 1,150 is more than 250 ms past): starts now, no burst of credit.
    expect(m.gcraReserve('k', '10.0000', 1, 250, 1_500)).toBe('1500.000|1500.000');
    expect(m.gcraReserve('new', '10.0000', 3, 250, 2_000)).toBe('2000.000|2000.000');
    expect(m.get('new')).toBe('2030.000');
  });

  it("the send guard admits a send only while all replicas' sends in the last window are fewer than the cap", async () => {
    const a = setup({ limitOf: () => 100, headroom: 0.02, name: 'a' });
    const b = setup({ limitOf: () => 100, headroom: 0.02, name: 'b', with: a });
    // A stall's backlog in both replicas: 150 due sends each, at once. The cap (sendGuardCap) is 99 of 100.
    const sends = Array.from({ length: 150 }, () => [a.admit('N'), b.admit('N')]).flat();
    const { tookMs } = await settleAll(a.time, sends);
    const all = [...a.admitted.get('N')!, ...b.admitted.get('N')!];
    expect(all).toHaveLength(300);
    expect(densestWithin(all, 999.999)).toBe(99);
    expect(tookMs).toBeGreaterThan(2_000);
    expect(a.scheduler.heldSlots + b.scheduler.heldSlots).toBeGreaterThan(0);
  });

  it('numbers up to ~83 msg/s (slots ≥ 12 ms) keep admissions at least half a slot apart; faster ones have no gap', async () => {
    expect(minimumGapMs(20)).toBe(10);
    expect(minimumGapMs(1_000 / 83)).toBeCloseTo(6.024, 3);
    expect(minimumGapMs(1_000 / 84)).toBe(0);
    const slow = setup({ limitOf: () => 50 });
    await settleAll(
      slow.time,
      Array.from({ length: 5 }, () => slow.admit('N')),
    );
    expect(gaps(slow.admitted.get('N')!).every((g) => g >= 10)).toBe(true);
    const fast = setup({ limitOf: () => 100 });
    await settleAll(
      fast.time,
      Array.from({ length: 5 }, () => fast.admit('N')),
    );
    expect(new Set(fast.admitted.get('N'))).toHaveProperty('size', 1);
  });

  it('the minimum gap counts from the admission, not from where a send was later moved in the window', async () => {
    // 10 msg/s with 2 % headroom: slots of 102 ms, a gap of 51 ms.
    const { time, scheduler, guard, admit, admitted } = setup({ limitOf: () => 10, headroom: 0.02 });
    const first = await admit('N');
    await time.advance(90);
    first.answered(); // cold and late: counted from its answer in both windows
    expect(scheduler.lateAnswers).toBe(1);
    expect(guard.window('N')).toEqual([admitted.get('N')![0]! + 90]);
    const { tookMs: second } = await settleAll(time, [admit('N')]);
    expect(second).toBe(0);
    const { tookMs: third } = await settleAll(time, [admit('N')]);
    expect(third).toBeGreaterThanOrEqual(51);
  });

  it('each process checks its own send log first, without asking the guard', async () => {
    // 2 msg/s: a cap of 1 in any second.
    const { time, guard, admit, admitted } = setup({ limitOf: () => 2 });
    await admit('N');
    const second = admit('N');
    await time.advance(900);
    expect(guard.admitCalls).toBe(1);
    await settleAll(time, [second]);
    expect(guard.admitCalls).toBe(2);
    expect(gaps(admitted.get('N')!)[0]).toBeGreaterThanOrEqual(1_000);
  });

  it('while a send of a number is held, later ones queue behind it in order instead of polling the guard', async () => {
    const a = setup({ limitOf: () => 2, name: 'a' });
    const b = setup({ limitOf: () => 2, name: 'b', with: a });
    await a.admit('N'); // the other replica filled the window
    const order: number[] = [];
    const held = [b.admit('N').then(() => order.push(0))];
    await b.time.advance(1); // held by the full window: the chain is on
    held.push(...[1, 2, 3].map((i) => b.admit('N').then(() => order.push(i))));
    await b.time.advance(500);
    expect(b.guard.admitCalls).toBe(1);
    await settleAll(b.time, held);
    expect(order).toEqual([0, 1, 2, 3]);
    // Each asked once more when its wait was over (the first twice): no polling.
    expect(b.guard.admitCalls).toBeLessThanOrEqual(6);
  });

  it('a held queue drains at the paced rate (catch-up ≤ 20 ms of slots, ≤ twice the rate), not one send per guard round trip, and the drain pauses while a member is held by a full window', async () => {
    // 200 msg/s: slots of 5 ms (no minimum gap), cap 199; 20 ms guard round trips.
    const { time, guard, scheduler, admit, admitted } = setup({ limitOf: () => 200, oneWayMs: 10 });
    await settleAll(
      time,
      Array.from({ length: 199 }, () => admit('Q')),
    );
    const queued = Array.from({ length: 100 }, () => admit('Q'));
    await time.advance(500);
    // The head is held by its own log (no guard call), the rest queue behind it; no drain timer runs meanwhile.
    expect(guard.admitCalls).toBe(199);
    await settleAll(time, queued);
    const times = admitted.get('Q')!.slice(199);
    const first = times[0]!;
    // At the paced rate 100 sends take 0.5 s; one per round trip would take 2 s.
    expect(times.filter((t) => t - first <= 600).length).toBeGreaterThanOrEqual(95);
    // Never a bunch: twice the rate is 8 in 20 ms, plus the catch-up's slack.
    expect(densestWithin(times, 20)).toBeLessThanOrEqual(10);
    expect(scheduler.heldSlots).toBeGreaterThanOrEqual(99);
  });

  it('a drain timer hands on between admissions, also while a member is held by the minimum gap', async () => {
    // 50 msg/s: slots of 20 ms, a 10 ms gap; 60 ms guard round trips (a dispatcher's busy start).
    const { time, admit, admitted } = setup({ limitOf: () => 50, oneWayMs: 30 });
    const { tookMs } = await settleAll(
      time,
      Array.from({ length: 40 }, () => admit('G')),
    );
    // At the paced rate 40 sends take 0.8 s plus a round trip or two; one per round trip would take 2.4 s.
    expect(tookMs).toBeLessThan(1_000);
    expect(densestWithin(admitted.get('G')!, 20)).toBeLessThanOrEqual(2);
  });

  it('while a number is cold (its first 100 answers, and 2 s from its first answer), a send answered later than 3 ms counts from its answer, at most 100 ms after its admission', async () => {
    const { time, scheduler, guard, admit } = setup({ limitOf: () => 1_000, headroom: 0.02 });
    const answerIn = (p: SendPermit, ms: number) => time.setTimeout(() => p.answered(), ms);
    const start = time.now();
    for (const p of (
      await settleAll(
        time,
        Array.from({ length: 300 }, () => admit('N')),
      )
    ).results)
      answerIn(p, 10);
    await time.advance(50);
    // 300 answers within 2 s: all still cold.
    expect(scheduler.lateAnswers).toBe(300);
    expect(new Set(guard.window('N'))).toEqual(new Set([start + 10]));
    answerIn(await admit('N'), 2); // a prompt answer is not moved
    answerIn(await admit('N'), 150); // moved by at most 100 ms
    await time.advance(200);
    expect(scheduler.lateAnswers).toBe(301);
    expect(guard.window('N').slice(-2)).toEqual([start + 50, start + 150]);
    // Past 100 answers and 2 s from the first: warm, a late answer no longer moves its send.
    await time.advance(2_000);
    answerIn(await admit('N'), 10);
    await time.advance(50);
    expect(scheduler.lateAnswers).toBe(301);
    // Fewer than 100 answers: still cold after 2 s.
    answerIn(await admit('M'), 1);
    await time.advance(2_500);
    answerIn(await admit('M'), 10);
    await time.advance(50);
    expect(scheduler.lateAnswers).toBe(302);
  });

  it('an admitted send holds a Graph API connection until its answer; only the send heading its queue takes one, and gives it back while the guard holds it', async () => {
    const connections = createSemaphore(1);
    const { time, scheduler, admit } = setup({ limitOf: (id) => (id === 'A' ? 2 : 1_000), connections, oneWayMs: 1 });
    const [b] = (await settleAll(time, [admit('B')])).results;
    expect(connections.active).toBe(1);
    let c: SendPermit | undefined;
    void admit('C').then((p) => (c = p));
    await time.advance(150);
    expect(c).toBeUndefined();
    expect(scheduler.connectionWaits).toBe(1);
    b!.answered();
    await time.advance(3);
    expect(c).toBeDefined();
    c!.answered();
    c!.answered(); // a second call gives nothing back twice
    expect(connections.active).toBe(0);
    // A's window is full for a second: its next send is held and three queue behind it, holding no connection.
    (await settleAll(time, [admit('A')])).results[0]!.answered();
    const heldA = [admit('A'), admit('A'), admit('A'), admit('A')];
    await time.advance(100);
    expect(connections.active).toBe(0);
    const { results, tookMs } = await settleAll(time, [admit('B')]);
    expect(tookMs).toBeLessThanOrEqual(3);
    results[0]!.answered();
    const rest = await settleAll(
      time,
      heldA.map((p) => p.then((permit) => permit.answered())),
    );
    expect(rest.tookMs).toBeGreaterThan(2_500);
    expect(connections.active).toBe(0);
  });

  it('a send written more than 3 ms after its admission is moved to its write in both windows, and the next admissions see it', async () => {
    const { time, scheduler, guard, admit, admitted } = setup({ limitOf: () => 2 });
    const first = await admit('W');
    await time.advance(2);
    first.written(); // in time: not moved
    await time.advance(298);
    first.written(); // bytes left 300 ms after the admission (a busy event loop)
    first.answered();
    expect(scheduler.lateWrites).toBe(1);
    const at = admitted.get('W')![0]!;
    expect(guard.window('W')).toEqual([at + 300]);
    await settleAll(time, [admit('W')]);
    expect(admitted.get('W')![1]! - at).toBeGreaterThanOrEqual(1_300);
  });

  it("a guard reply read late counts as a late write: the send is moved from the guard's admission to its write", async () => {
    const { time, scheduler, guard, admit } = setup({ limitOf: () => 2, replyDelayMs: 40 });
    const start = time.now();
    const { results, tookMs } = await settleAll(time, [admit('W')]); // admitted on the guard at `start`, its reply read 40 ms later
    const first = results[0]!;
    expect(tookMs).toBe(40);
    expect(guard.window('W')).toEqual([start]);
    first.written(); // written at once after the reply, 40 ms after the guard counted it
    first.answered();
    expect(scheduler.lateWrites).toBe(1);
    expect(guard.window('W')).toEqual([start + 40]);
  });

  it('a lowered limit applies at once through the window: the sends of the last second count against it', async () => {
    let limit = 100;
    const { time, admit, admitted } = setup({ limitOf: () => limit });
    for (let i = 0; i < 90; i++) {
      await admit('N');
      await time.advance(10);
    }
    limit = 30; // cap 29: the 61st send of the last second has to leave the window first
    await settleAll(time, [admit('N')]);
    const times = admitted.get('N')!;
    expect(times[90]! - times[0]!).toBeCloseTo(610 + 1_000, -1);
  });

  it('a job the ledger already knows is not admitted, and the queue behind it moves on', async () => {
    const { time, scheduler, model } = setup({ limitOf: () => 50 });
    model.sendGuard(
      ['sent-window:X', 'sent-window:X:last-admission', 'ledger:known'],
      { windowMs: 1_000, cap: 10, member: 'm', gapMs: '0', value: '{"st":"done","a":0,"at":1}', attempt: 0 },
      time.now() - 5_000,
    );
    const [known, next] = (await settleAll(time, [scheduler.admit('N', claim('known')), scheduler.admit('N', claim('fresh'))])).results;
    expect(known).toEqual({ admitted: false, existing: { st: 'done', a: 0, at: 1 } });
    expect(next!.admitted).toBe(true);
  });

  it('throttle answers slow a number by the decrease factor for the cool-down, then it recovers linearly; not answers to sends released before a limit change', async () => {
    const time = new FakeTime();
    let limit = 100;
    const rates = new SenderRates({ headroomFraction: 0, decreaseFactor: 0.5, coolDownMs: 10_000, limitOf: () => limit, clock: time });
    rates.onThrottle('N', time.now());
    expect(rates.rateOf('N').targetMps).toBe(50);
    await time.advance(10_000);
    expect(rates.rateOf('N').factor).toBe(0.5);
    await time.advance(5_000);
    expect(rates.rateOf('N').factor).toBeCloseTo(0.75);
    await time.advance(5_000);
    expect(rates.rateOf('N').factor).toBe(1);
    const sentBefore = time.now();
    await time.advance(1);
    limit = 50; // a downgrade, learnt now
    expect(rates.rateOf('N').targetMps).toBe(50);
    rates.onThrottle('N', sentBefore);
    expect(rates.rateOf('N').factor).toBe(1);
    rates.onThrottle('N', time.now());
    expect(rates.rateOf('N').factor).toBe(0.5);
  });

  it("Redis' time is converted through a stable offset estimate: the largest recent sample (least reply delay), renewed every 5 s", () => {
    const o = new ClockOffset();
    expect(o.estimate()).toBe(Number.NEGATIVE_INFINITY);
    expect(o.observe(10, 0)).toBe(10);
    expect(o.observe(4, 100)).toBe(10); // a delayed reply: smaller, ignored
    expect(o.observe(12, 200)).toBe(12);
    // Samples age out over two periods: a clock that stepped back is followed within 10 s.
    expect(o.observe(5, 6_000)).toBe(12);
    expect(o.observe(5, 12_000)).toBe(5);
  });
});
