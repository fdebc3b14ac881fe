/**
 * An estimate of (remote clock − local clock) from samples taken as replies arrive: a sample is the
 * remote time minus the local time at the reply, smaller by however long the reply took, so the largest
 * recent sample is the one with the least delay. Samples age out over two periods of `rotateMs`, so the
 * estimate follows a clock that steps back.
 */
export class ClockOffset {
  private cur = Number.NEGATIVE_INFINITY;
  private prev = Number.NEGATIVE_INFINITY;
  private rotatedAt = 0;

  constructor(private readonly rotateMs = 5_000) {}

  /** Takes a sample (remote − local, at local time `localNow`) and returns the estimate. */
  observe(sample: number, localNow: number): number {
    if (localNow - this.rotatedAt > this.rotateMs) {
      this.prev = this.cur;
      this.cur = Number.NEGATIVE_INFINITY;
      this.rotatedAt = localNow;
    }
    if (sample > this.cur) this.cur = sample;
    return this.estimate();
  }

  /** The current estimate; -Infinity before any sample. */
  estimate(): number {
    return Math.max(this.cur, this.prev);
  }
}
