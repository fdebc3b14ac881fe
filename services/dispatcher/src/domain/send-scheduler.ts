import type { Lane } from '@wa/shared/contracts/common';
import type { Admission, Clock, LedgerClaim, Permits, RateLimiter, SendGuard, SendPermit, Timers } from '../ports';
import { HeldChain } from './held-chain';
import { minimumGapMs, pacedRoom, sendGuardCap, slotIntervalMs } from './pacing';
import type { InboundRate } from '@wa/shared/inbound-rate';
import { SenderRates, type SenderRate } from './sender-rates';
import { SlotQueues } from './slot-queues';

/** While cold, a response later than this after the admission moves its send to the response time. */
export const LATE_ANSWER_MS = 3;
/**
 * A request written to its socket later than this after the guard admitted it (on Redis, so a reply read late
 * by a busy process counts) is counted from its write. A number
 * tolerates only the gap between the guard's cap and its limit: 10-12 ms of compressed arrivals at 250 and
 * 1,000 msg/s with 2 % headroom, which a 20 ms threshold let through at start-up (docs/dispatcher.md).
 */
export const LATE_WRITE_MS = 3;
/**
 * A number's path is cold in this process until both: this many answers, and COLD_MS since its first answer.
 * Count alone ended it after 0.1 s at 1,000 msg/s and 0.4 s at 250, while connections were still being opened
 * and both ends still compiling (bench:dispatch's 250 msg/s number met its 130429s 1.0–1.6 s in).
 */
export const COLD_ANSWERS = 100;
export const COLD_MS = 2_000;
/** …by at most this much: cold-start arrival delays reached 50–160 ms in bench:dispatch; the rest of a slow answer is the server's work. */
export const COLD_MOVE_MAX_MS = 100;

/** Lifetime counts of pacing events (exported as metrics). */
export type SchedulerCounter = 'heldSlots' | 'connectionWaits' | 'lateWrites' | 'lateAnswers';

export interface SendSchedulerOptions {
  guard: SendGuard;
  timers: Timers;
  /** Wall clock of the rates (throttle cool-downs, limit changes) and of the slot waits. */
  clock: Clock;
  headroomFraction: number;
  decreaseFactor: number;
  coolDownMs: number;
  limitOf: (phoneNumberId: string) => number;
  /** Recent inbound messages per second of a number (see SenderRates). */
  inboundOf?: (phoneNumberId: string) => InboundRate;
  /** Slots are reserved at most this far ahead, so a newly arrived auth job overtakes queued marketing. */
  reserveAheadMs?: number;
  /** Meta's throughput window (a sliding second); the send guard counts sends in it. */
  windowMs?: number;
  /**
   * The Graph API pool's connections (HTTP_POOL_CONNECTIONS). An admitted send holds one until it is
   * answered: a request admitted while every connection is busy would wait inside the HTTP client and
   * leave later, bunched with the others that waited (a stalled server frees many at once), after the
   * guard counted it at admission. Absent: no bound.
   */
  connections?: Permits;
  /** Names this process' sends in the shared window (unique per process). */
  memberPrefix: string;
  /** Called on every count (the counters below hold the lifetime totals too). */
  onCount?: (counter: SchedulerCounter) => void;
}

/** A number's state in this process. */
interface Sender {
  readonly id: string;
  /** This process' admitted sends within the window, oldest first (local ms). */
  readonly log: number[];
  readonly chain: HeldChain;
  /** Answers seen, and when the first came (cold start). */
  answers: number;
  firstAnswerAt: number;
}

/** One send on its way through admit(). */
interface Pending {
  readonly member: string;
  /** A member of its number's held chain. */
  head: boolean;
  /** Holds a Graph API connection. */
  connection: boolean;
}

/**
 * Per-number pacing in this process, over a SendGuard shared by all replicas, in two layers:
 * 1. GCRA slots (SlotQueues) spread sends evenly at the target rate (SenderRates).
 * 2. When a slot is due, admit(): this process' own log of sends, then the shared send guard (Meta's
 *    sliding-window rule, with a cap just under the limit and a minimum gap for slow numbers) must let
 *    it through. Evenly spaced slots always pass; slots that a stall or a slow reply bunched are held
 *    until the window has room, instead of arriving at Meta as a burst. While a send of a number is held,
 *    later ones queue behind it (its held chain) and are handed on at the paced rate.
 * Pure: time, timers and the guard are injected.
 */
export class SendScheduler implements RateLimiter {
  private readonly rates: SenderRates;
  private readonly slots: SlotQueues;
  private readonly senders = new Map<string, Sender>();
  private readonly windowMs: number;
  private memberSeq = 0;
  private closed = false;

  /** Due slots the send guard held back because the sliding window was full (stalls bunching sends). */
  heldSlots = 0;
  /** Due sends that waited for a free Graph API connection (every connection busy: slow answers). */
  connectionWaits = 0;
  /** Sends whose request reached its socket more than LATE_WRITE_MS after the admission (counted from the write). */
  lateWrites = 0;
  /** Sends of cold numbers counted until their response (it came back later than LATE_ANSWER_MS). */
  lateAnswers = 0;

  constructor(private readonly options: SendSchedulerOptions) {
    this.rates = new SenderRates(options);
    this.windowMs = options.windowMs ?? 1_000;
    this.slots = new SlotQueues({
      guard: options.guard,
      timers: options.timers,
      clock: options.clock,
      targetMpsOf: (id) => this.rates.rateOf(id).targetMps,
      reserveAheadMs: options.reserveAheadMs ?? 100,
    });
  }

  rateOf(phoneNumberId: string): SenderRate {
    return this.rates.rateOf(phoneNumberId);
  }

  onThrottle(phoneNumberId: string, sentAtMs?: number): void {
    this.rates.onThrottle(phoneNumberId, sentAtMs);
  }

  acquire(phoneNumberId: string, lane: Lane): Promise<number> {
    return this.slots.acquire(phoneNumberId, lane);
  }

  /**
   * The last step before a send leaves: resolves when both this process' own log of sends and the shared
   * send guard admit one more send of this number in the sliding window, taking the job's ledger claim in
   * the same guard step. The caller must send synchronously after it resolves, so nothing of ours runs
   * between the decision and the request's write, and must call `answered()` when the response is back.
   * A job the ledger already knows is not admitted.
   */
  async admit(phoneNumberId: string, claim: LedgerClaim): Promise<Admission> {
    const s = this.sender(phoneNumberId);
    const send: Pending = { member: `${this.options.memberPrefix}:${this.memberSeq++}`, head: false, connection: false };
    // While a send of this number is held, later ones queue here in order instead of each asking the guard.
    if (s.chain.on) {
      await s.chain.wait();
      send.head = true;
    }
    const startedAt = this.options.timers.now();
    try {
      for (;;) {
        if (this.closed) throw new Error('rate limiter closed');
        const rate = this.rates.rateOf(phoneNumberId);
        // Own sends first (no I/O): a reply that arrived late must not release a bunch.
        const cap = sendGuardCap(rate.targetMps, rate.limitMps, rate.inboundMps, rate.inboundHeld);
        let waitMs = this.ownWindowWait(s, cap);
        /** Held by the minimum gap only (a few ms), not by a full window. */
        let gapHold = false;
        if (!(waitMs > 0)) {
          if (!(await this.takeConnection(send))) continue; // it waited: time passed, ask the own window again
          const issuedAt = this.options.timers.now();
          const interval = slotIntervalMs(rate.targetMps);
          const gapMs = minimumGapMs(interval);
          const verdict = await this.options.guard.admit(phoneNumberId, { member: send.member, windowMs: this.windowMs, cap, gapMs, claim });
          if (verdict.kind === 'known') {
            this.giveBack(send);
            this.leaveChain(s, send);
            return { admitted: false, existing: verdict.existing };
          }
          if (verdict.kind === 'admitted') {
            const at = this.options.timers.now();
            // Counted from when the guard admitted it: a reply this process read late is a late write.
            const admittedAt = Math.min(at, verdict.at ?? at);
            const log = this.recentSends(s.log, at);
            log.push(admittedAt);
            if (send.head) this.count('heldSlots');
            this.leaveChain(s, send, at, interval, pacedRoom(rate.targetMps, this.windowMs, log.length));
            return { admitted: true, permit: this.permit(s, send, admittedAt, issuedAt, this.options.timers.now() - startedAt) };
          }
          waitMs = verdict.waitMs;
          gapHold = gapMs > 0 && waitMs <= gapMs;
          this.giveBack(send);
        }
        if (!send.head && !s.chain.start()) {
          // A held chain formed meanwhile: queue behind it (the member handing this send on counts it active).
          await s.chain.wait();
          send.head = true;
          continue;
        }
        send.head = true;
        await s.chain.sleep(waitMs, gapHold);
      }
    } catch (err) {
      this.giveBack(send);
      this.leaveChain(s, send);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.senders.values()) s.chain.close();
    this.slots.close();
  }

  private sender(phoneNumberId: string): Sender {
    let s = this.senders.get(phoneNumberId);
    if (!s) {
      const log: number[] = [];
      const pace = () => {
        const { targetMps } = this.rates.rateOf(phoneNumberId);
        return { intervalMs: slotIntervalMs(targetMps), room: (at: number) => pacedRoom(targetMps, this.windowMs, this.recentSends(log, at).length) };
      };
      s = { id: phoneNumberId, log, chain: new HeldChain(this.options.timers, pace), answers: 0, firstAnswerAt: 0 };
      this.senders.set(phoneNumberId, s);
    }
    return s;
  }

  private count(counter: SchedulerCounter): void {
    this[counter]++;
    this.options.onCount?.(counter);
  }

  /** How long this process' own log makes the next send wait (0: room now). */
  private ownWindowWait(s: Sender, cap: number): number {
    const log = this.recentSends(s.log, this.options.timers.now());
    return log.length >= cap ? log[log.length - cap]! + this.windowMs - this.options.timers.now() + 0.05 : 0;
  }

  /**
   * A connection is taken only by the send heading its number's queue, right before the guard is asked,
   * and given back while the guard holds it: queued and held sends never tie up connections. False when
   * it had to wait for one.
   */
  private async takeConnection(send: Pending): Promise<boolean> {
    const connections = this.options.connections;
    if (!connections || send.connection) return true;
    send.connection = connections.tryAcquire();
    if (send.connection) return true;
    this.count('connectionWaits');
    await connections.acquire();
    send.connection = true;
    return false;
  }

  private giveBack(send: Pending): void {
    if (!send.connection) return;
    send.connection = false;
    this.options.connections!.release();
  }

  /** A member of the held chain leaves it (see HeldChain.leave). */
  private leaveChain(s: Sender, send: Pending, admittedAt?: number, intervalMs?: number, room?: number): void {
    if (!send.head) return;
    send.head = false;
    s.chain.leave(admittedAt, intervalMs, room);
  }

  /**
   * Meta counts a request when it arrives, which we cannot see: no earlier than its write, no later
   * than its response. While a number is cold in this process (its first answers: new connections,
   * JIT on both ends, requests can reach the server late and bunched), each send counts in both
   * windows until its response came back (at most COLD_MOVE_MAX_MS after the decision),
   * conservatively; afterwards from its write, since a warm path adds little delay before arrival
   * and most of an answer's latency is the server's work.
   */
  private permit(s: Sender, send: Pending, sentAt: number, issuedAt: number, heldMs: number): SendPermit {
    const { timers } = this.options;
    // Where this send sits in both windows now: its admission, later its write, while cold its answer.
    let countedAt = sentAt;
    const moveTo = (at: number) => {
      if (!(at > countedAt)) return;
      this.moveSend(s, send.member, countedAt, at);
      countedAt = at;
    };
    return {
      heldMs,
      written: () => {
        const at = timers.now();
        if (at - countedAt <= LATE_WRITE_MS) return;
        this.count('lateWrites');
        moveTo(at);
      },
      answered: () => {
        this.giveBack(send);
        const answeredAt = timers.now();
        if (s.answers++ === 0) s.firstAnswerAt = answeredAt;
        if (s.answers > COLD_ANSWERS && answeredAt - s.firstAnswerAt > COLD_MS) return;
        if (answeredAt - issuedAt <= LATE_ANSWER_MS) return;
        this.count('lateAnswers');
        moveTo(Math.min(answeredAt, issuedAt + COLD_MOVE_MAX_MS));
      },
    };
  }

  /** Moves one send of this process from `from` to `at` in its own log and in the shared window. */
  private moveSend(s: Sender, member: string, from: number, at: number): void {
    const log = s.log;
    const i = log.lastIndexOf(from);
    if (i >= 0) log.splice(i, 1);
    let j = log.length;
    while (j > 0 && log[j - 1]! > at) j--;
    log.splice(j, 0, at);
    this.options.guard.move(s.id, member, at);
  }

  /** This process' send times for a number within the window (oldest first). */
  private recentSends(log: number[], at: number): number[] {
    let drop = 0;
    while (drop < log.length && log[drop]! <= at - this.windowMs) drop++;
    if (drop > 0) log.splice(0, drop);
    return log;
  }
}
