type RecordState = 'running' | 'done' | 'failed';

/**
 * What a consumer has taken from one partition and what of it is done, so that it can fetch past
 * its slowest job (a slow number's backlog must not hold up a fast number's jobs behind it) and
 * still commit only an offset below which every record is done.
 *
 * Offsets are taken in increasing order; a record fetched again (after a seek, a rebalance or a
 * failure) is run again only if it failed or was never taken: one that is running or done is not.
 */
export class PartitionProgress {
  /** Every offset below this is done. */
  private floor = -1;
  /** Taken offsets at or above `floor`, ascending. */
  private order: number[] = [];
  private head = 0;
  private readonly states = new Map<number, RecordState>();
  private running = 0;

  /** Whether the record at `offset` is to be run: never taken, or failed. */
  wants(offset: number): boolean {
    if (offset < this.floor) return false;
    const state = this.states.get(offset);
    return state !== 'running' && state !== 'done';
  }

  /** Whether the record at `offset` should be run now; if so it counts as running. */
  take(offset: number): boolean {
    if (!this.wants(offset)) return false;
    if (!this.states.has(offset)) this.insert(offset);
    this.states.set(offset, 'running');
    this.running++;
    return true;
  }

  done(offset: number): void {
    this.settle(offset, 'done');
    this.advance();
  }

  /** The record must run again: it stays below the commit watermark until it is done. */
  failed(offset: number): void {
    this.settle(offset, 'failed');
  }

  /** The offset to commit (the next record to read after a restart): the first one not done. */
  commitOffset(): number | undefined {
    if (this.head < this.order.length) return this.order[this.head]!;
    return this.floor >= 0 ? this.floor : undefined;
  }

  /** Records taken and not finished. */
  get inFlight(): number {
    return this.running;
  }

  /** Records that failed and wait to be fetched again. */
  get failedCount(): number {
    let n = 0;
    for (const s of this.states.values()) if (s === 'failed') n++;
    return n;
  }

  private settle(offset: number, to: 'done' | 'failed'): void {
    if (this.states.get(offset) !== 'running') return;
    this.running--;
    this.states.set(offset, to);
  }

  private insert(offset: number): void {
    const last = this.order.length > this.head ? this.order[this.order.length - 1]! : -1;
    if (offset > last) {
      this.order.push(offset);
      return;
    }
    // Not expected (offsets are taken in order, and refetched ones are known), but keep the order sorted.
    let i = this.head;
    while (i < this.order.length && this.order[i]! < offset) i++;
    this.order.splice(i, 0, offset);
  }

  private advance(): void {
    while (this.head < this.order.length && this.states.get(this.order[this.head]!) === 'done') {
      const offset = this.order[this.head++]!;
      this.states.delete(offset);
      this.floor = offset + 1;
    }
    if (this.head > 1_024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
