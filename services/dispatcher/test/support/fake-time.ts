import type { Clock, Timers } from '../../src/ports';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets every pending promise continuation run (they are all microtasks: nothing here does I/O). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A fake clock with timers for pure pacing code: time moves only in advance(), which fires the timers due,
 * in time order, letting promises settle after each. Like Node's, a timer waits at least 1 ms.
 */
export class FakeTime implements Timers, Clock {
  private t: number;
  private seq = 0;
  private pending: Timer[] = [];

  constructor(start = 1_800_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: Timer = { at: this.t + Math.max(1, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle) (handle as Timer).cancelled = true;
  }

  /** Moves time on by `ms`, running what falls due. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = this.next(end);
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.fn();
      await settle();
    }
    this.t = end;
  }

  /** A stall: time jumps on by `ms` without running anything (timers due meanwhile fire late, together). */
  stall(ms: number): void {
    this.t += ms;
  }

  /** Advances in 1 ms steps until `done()` (or throws after `maxMs`); returns the time it took. */
  async until(done: () => boolean, maxMs = 60_000): Promise<number> {
    const start = this.t;
    await settle();
    while (!done()) {
      if (this.t - start > maxMs) throw new Error(`not done within ${maxMs} ms of fake time`);
      await this.advance(1);
    }
    return this.t - start;
  }

  private next(end: number): Timer | undefined {
    let best: Timer | undefined;
    let bestIndex = -1;
    this.pending = this.pending.filter((p) => !p.cancelled);
    this.pending.forEach((p, i) => {
      if (p.at <= end && (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq))) {
        best = p;
        bestIndex = i;
      }
    });
    if (bestIndex >= 0) this.pending.splice(bestIndex, 1);
    return best;
  }
}
