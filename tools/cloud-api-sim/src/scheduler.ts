/**
 * Due-time buckets in sim-time: items are grouped by `granularityMs`, and a min-heap of bucket
 * keys finds the next due bucket. Items can be plain numbers (compact: message index × 8 +
 * status) so millions of pending status callbacks cost a few bytes each.
 */
export class BucketScheduler<T> {
  private readonly buckets = new Map<number, T[]>();
  private readonly heap: number[] = [];
  private count = 0;
  constructor(private readonly granularityMs: number) {}

  get size(): number {
    return this.count;
  }

  add(dueMs: number, item: T): void {
    const key = Math.ceil(dueMs / this.granularityMs);
    let b = this.buckets.get(key);
    if (!b) {
      b = [];
      this.buckets.set(key, b);
      this.heapPush(key);
    }
    b.push(item);
    this.count++;
  }

  /** Removes and returns every item due at or before `now`, in due order. */
  takeDue(now: number, out: T[] = []): T[] {
    const limit = Math.floor(now / this.granularityMs);
    while (this.heap.length > 0 && this.heap[0]! <= limit) {
      const key = this.heapPop();
      const b = this.buckets.get(key);
      this.buckets.delete(key);
      if (b) {
        for (const x of b) out.push(x);
        this.count -= b.length;
      }
    }
    return out;
  }

  clear(): void {
    this.buckets.clear();
    this.heap.length = 0;
    this.count = 0;
  }

  private heapPush(v: number): void {
    const h = this.heap;
    h.push(v);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= v) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = v;
  }

  private heapPop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mv = last;
        if (l < h.length && h[l]! < mv) {
          m = l;
          mv = h[l]!;
        }
        if (r < h.length && h[r]! < mv) m = r;
        if (m === i) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
