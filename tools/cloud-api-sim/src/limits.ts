/**
 * Rate and window bookkeeping, pure over an injected "now" (sim-time ms). Each structure is
 * sized by what the rule needs to remember, not by traffic: a million recipients pass through
 * without a million live entries unless the rule really has to remember them (messaging limit).
 */

/** Exact sliding-window limiter: a ring of the last `limit` admission times. */
export class SlidingWindowLimiter {
  private ring: Float64Array;
  private head = 0;
  private count = 0;
  constructor(
    private limit: number,
    private readonly windowMs: number,
  ) {
    this.ring = new Float64Array(Math.max(1, limit));
  }

  setLimit(limit: number): void {
    if (limit === this.limit) return;
    const times = this.recent(Number.NEGATIVE_INFINITY).slice(-limit);
    this.limit = limit;
    this.ring = new Float64Array(Math.max(1, limit));
    this.head = 0;
    this.count = 0;
    for (const t of times) this.push(t);
  }

  private recent(since: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.count; k++) {
      const t = this.ring[(this.head - this.count + k + this.ring.length * 2) % this.ring.length]!;
      if (t > since) out.push(t);
    }
    return out;
  }

  private push(now: number): void {
    this.ring[this.head] = now;
    this.head = (this.head + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
  }

  /** Admits and records one event if fewer than `limit` happened in (now - window, now]. */
  tryAcquire(now: number): boolean {
    if (this.count >= this.limit) {
      const oldest = this.ring[this.head]!; // ring is full: head points at the oldest entry
      if (oldest > now - this.windowMs) return false;
    }
    this.push(now);
    return true;
  }

  /** The admitted events still inside (now - window, now], oldest first (to explain a refusal). */
  inWindow(now: number): number[] {
    return this.recent(now - this.windowMs);
  }

  /** Records an event that cannot be refused (an inbound message still uses the number's capacity). */
  force(now: number): void {
    this.push(now);
  }
}

/** Highest number of events seen in any window of `windowMs` (a monotone deque of timestamps). */
export class PeakRateMeter {
  private buf = new Float64Array(1024);
  private start = 0;
  private end = 0;
  peak = 0;
  total = 0;
  constructor(private readonly windowMs: number) {}

  record(now: number): void {
    this.total++;
    const lo = now - this.windowMs;
    while (this.start < this.end && this.buf[this.start]! <= lo) this.start++;
    if (this.end === this.buf.length) {
      const live = this.buf.subarray(this.start, this.end);
      const next = live.length * 2 > this.buf.length ? new Float64Array(this.buf.length * 2) : this.buf;
      next.set(live, 0);
      this.buf = next;
      this.end -= this.start;
      this.start = 0;
    }
    this.buf[this.end++] = now;
    const n = this.end - this.start;
    if (n > this.peak) this.peak = n;
  }
}

/**
 * Pair rate per (sender, recipient), as Meta describes it: one message per `intervalMs` (6 s); a
 * burst of up to `burst` (45) messages within one interval is allowed but borrows from later
 * quota, and the pair is refused (131056) until that borrowed time has passed: after a burst of
 * 20 the pair waits about 2 minutes.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
 * State per pair: when its quota is whole again (`free`), and the burst in progress. Pairs whose
 * quota is whole are swept, so memory follows recent traffic, not every recipient ever contacted.
 */
export class PairRateLimiter {
  private readonly pairs = new Map<string, { free: number; burstStart: number; burstCount: number }>();
  private lastSweep = 0;
  constructor(
    private burst: number,
    private intervalMs: number,
  ) {}

  configure(burst: number, intervalMs: number): void {
    this.burst = burst;
    this.intervalMs = intervalMs;
  }

  tryAcquire(key: string, now: number): boolean {
    if (this.intervalMs <= 0) return true;
    this.sweep(now);
    const p = this.pairs.get(key);
    if (p === undefined || p.free <= now) {
      this.pairs.set(key, { free: now + this.intervalMs, burstStart: now, burstCount: 1 });
      return true;
    }
    if (now - p.burstStart >= this.intervalMs || p.burstCount >= this.burst) return false;
    p.burstCount += 1;
    p.free += this.intervalMs;
    return true;
  }

  private sweep(now: number): void {
    // Time-based only: a size trigger would sweep on every call once many pairs are live.
    if (now - this.lastSweep < 5000) return;
    this.lastSweep = now;
    for (const [k, p] of this.pairs) if (p.free <= now) this.pairs.delete(k);
  }

  size(): number {
    return this.pairs.size;
  }

  clear(): void {
    this.pairs.clear();
  }
}

/**
 * Unique business-initiated recipients per portfolio in a rolling window. Insertion order of a
 * Map is the order of last contact (re-contact moves a person to the end), so expiry is a sweep
 * from the front.
 */
export class UniqueRecipientWindow {
  private readonly last = new Map<string, number>();
  constructor(private readonly windowMs: number) {}

  private expire(now: number): void {
    const lo = now - this.windowMs;
    for (const [k, t] of this.last) {
      if (t > lo) break;
      this.last.delete(k);
    }
  }

  /** Whether the person is already inside the window (does not count again). */
  has(recipient: string, now: number): boolean {
    this.expire(now);
    return this.last.has(recipient);
  }

  /** Admits the recipient if already in the window or if the window has room under `limit`. */
  tryAdmit(recipient: string, now: number, limit: number): boolean {
    this.expire(now);
    if (this.last.has(recipient)) {
      this.last.delete(recipient);
      this.last.set(recipient, now);
      return true;
    }
    if (this.last.size >= limit) return false;
    this.last.set(recipient, now);
    return true;
  }

  size(now: number): number {
    this.expire(now);
    return this.last.size;
  }
}

/** Last inbound time per key (sender + person), for service windows and free entry points. */
export class WindowTracker {
  private readonly last = new Map<string, number>();
  constructor(private readonly windowMs: number) {}

  open(key: string, now: number): void {
    this.last.delete(key);
    this.last.set(key, now);
  }

  isOpen(key: string, now: number): boolean {
    const t = this.last.get(key);
    if (t === undefined) return false;
    if (now - t < this.windowMs) return true;
    this.last.delete(key);
    return false;
  }

  openedAt(key: string): number | undefined {
    return this.last.get(key);
  }
}
