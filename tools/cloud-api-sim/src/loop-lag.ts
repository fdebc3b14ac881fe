import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 5;
const KEEP_MS = 2_000;

/**
 * How late this process' event loop ran recently (real ms). The simulator stamps a request when its
 * loop handles it, so a request that reached the socket during a stall is stamped late, together with
 * the others that arrived meanwhile: the stall's length is how far a stamp can be from the arrival.
 */
export class LoopLag {
  private readonly at = new Float64Array(Math.ceil(KEEP_MS / SAMPLE_MS));
  private readonly lag = new Float64Array(this.at.length);
  private head = 0;
  private last: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(now = performance.now()) {
    this.last = now;
  }

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(performance.now()), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records one timer tick at `now` (exposed for tests). */
  sample(now: number): void {
    this.at[this.head] = now;
    this.lag[this.head] = Math.max(0, now - this.last - SAMPLE_MS);
    this.head = (this.head + 1) % this.at.length;
    this.last = now;
  }

  /** The longest stall that ended within the last `windowMs`, or is still going on (a tick overdue now). */
  maxWithin(windowMs: number, now = performance.now()): number {
    let max = this.timer ? Math.max(0, now - this.last - SAMPLE_MS) : 0;
    for (let i = 0; i < this.at.length; i++) if (this.at[i]! > now - windowMs && this.lag[i]! > max) max = this.lag[i]!;
    return Math.round(max * 10) / 10;
  }
}
