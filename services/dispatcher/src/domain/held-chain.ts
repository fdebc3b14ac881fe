import type { Timers } from '../ports';
import { handedOn, nextHandOnAt, queuedSendsDue, type HandOnTimelines } from './pacing';

/** A held number's queue is also handed on by a timer, at most this often (or once a slot, for slower numbers). */
export const DRAIN_TICK_MS = 4;

/** How fast a chain drains now: its paced slot, and how many more sends its last window has room for at `at`. */
export interface DrainPace {
  intervalMs: number;
  room(at: number): number;
}

/**
 * A number's held chain in this process. While a send of the number is held by the guard, later ones
 * queue here in order instead of each asking the guard. When a member leaves (admitted, or not to be
 * sent) it hands on the queued sends due at the paced rate since the chain last handed on, and a drain
 * timer goes on handing on at that rate between admissions. The chain is on while it has an active member.
 */
export class HeldChain implements HandOnTimelines {
  handedOnAt = 0;
  burstAt = 0;
  /** Sends queued behind the chain, in order. */
  private readonly queue: (() => void)[] = [];
  /** Members asking the guard (handed on, not yet admitted). */
  private active = 0;
  /** Members sleeping on a full-window hold. */
  private sleeping = 0;
  private drainTimer: unknown;
  private closed = false;

  constructor(
    private readonly timers: Timers,
    private readonly pace: () => DrainPace,
  ) {}

  get on(): boolean {
    return this.active > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Waits until a member leaving the chain hands this send on; it is then an active member. */
  wait(): Promise<void> {
    return new Promise<void>((r) => this.queue.push(r));
  }

  /** A held send starts the chain (false: one is on already, queue behind it). */
  start(): boolean {
    if (this.active > 0) return false;
    this.active = 1;
    this.handedOnAt = this.burstAt = this.timers.now();
    return true;
  }

  /**
   * A member sleeps `waitMs` on a hold. While it sleeps on a full window the drain timer hands on nothing:
   * the queue would only poll. A minimum-gap hold ends within a slot; pausing for it, a gapped number sent
   * one message per guard round trip (100-120 ms at a dispatcher's start: 6-8 msg/s of 80 for 3 s).
   */
  async sleep(waitMs: number, gapHold: boolean): Promise<void> {
    const sleeper = gapHold ? 0 : 1;
    this.sleeping += sleeper;
    try {
      await new Promise<void>((r) => this.timers.setTimeout(r, Math.max(1, Math.ceil(waitMs))));
    } finally {
      this.sleeping -= sleeper;
    }
  }

  /**
   * A member leaves: admitted at `admittedAt` (slots of `intervalMs`, `room` more in the window), or, without
   * `admittedAt`, not to be sent. The chain ends when nothing is queued or active.
   */
  leave(admittedAt?: number, intervalMs = 0, room = 1): void {
    this.active--;
    this.handOn(admittedAt ?? this.timers.now(), admittedAt === undefined ? 0 : intervalMs, room);
    this.drainLater();
  }

  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.drainTimer);
  }

  /**
   * Hands on the queued sends that are due at the paced rate (queuedSendsDue), and at least one when no
   * member is active (the chain must not stall). Each still asks its own window and the guard.
   */
  private handOn(at: number, intervalMs: number, room: number): void {
    let due = intervalMs > 0 ? queuedSendsDue(this, at, intervalMs, room) : 0;
    if (this.active === 0) due = Math.max(due, 1);
    for (let i = 0; i < due && this.queue.length > 0; i++) {
      this.active++;
      handedOn(this, intervalMs);
      this.queue.shift()!();
    }
  }

  /**
   * Drains the queue at the paced rate by timer, not only when a member is admitted: handed on by
   * admissions alone, a chain moved HAND_ON_CATCH_UP_MS of slots per guard round trip, so once the round
   * trip outgrew it (20-30 ms on a busy event loop) the number fell below its rate for as long as its
   * backlog lasted, and a minimum-gap number (one at a time) sent one message per round trip (bench:dispatch
   * A: 0.82-0.92 of 1,000 and 250 msg/s, 0.67-0.82 of 80). Paused while a member sleeps on a full-window hold
   * (its admission hands on again).
   */
  private drainLater(): void {
    if (this.drainTimer !== undefined || this.queue.length === 0 || this.sleeping > 0 || this.closed) return;
    const pace = this.pace();
    this.drainTimer = this.timers.setTimeout(
      () => {
        this.drainTimer = undefined;
        if (this.sleeping > 0 || this.closed) return;
        const at = this.timers.now();
        this.handOn(at, pace.intervalMs, pace.room(at));
        this.drainLater();
      },
      Math.max(1, Math.ceil(nextHandOnAt(this, pace.intervalMs, DRAIN_TICK_MS) - this.timers.now())),
    );
  }
}
