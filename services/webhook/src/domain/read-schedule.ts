/** One inbound message to mark as read at Meta, through the business number that received it. */
export interface ReadTask {
  wamid: string;
  phoneNumberId: string;
  wabaId: string;
  /** 0 for the first try; retries after a throttle or a transient error count up. */
  attempt: number;
}

/**
 * Which mark-as-read calls may go now: one FIFO per business number, each number paced to at most
 * one call per `intervalMs`, a number paused after Meta throttled it, and a bound on everything
 * queued (the caller drops what does not fit: a read receipt is a courtesy, never worth memory or
 * back-pressure on the normaliser). Pure: time is passed in.
 */
export class ReadSchedule {
  private readonly queues = new Map<string, ReadTask[]>();
  private readonly nextAt = new Map<string, number>();
  private queued = 0;

  constructor(private readonly options: { intervalMs: number; maxQueued: number }) {}

  get size(): number {
    return this.queued;
  }

  /** Queues a task; false when the bound is reached (a retry is queued at the front of its number). */
  offer(task: ReadTask, front = false): boolean {
    if (this.queued >= this.options.maxQueued) return false;
    let q = this.queues.get(task.phoneNumberId);
    if (!q) this.queues.set(task.phoneNumberId, (q = []));
    if (front) q.unshift(task);
    else q.push(task);
    this.queued += 1;
    return true;
  }

  /** Holds a number's calls until `untilMs` (Meta answered with a throttle error). */
  pause(phoneNumberId: string, untilMs: number): void {
    this.nextAt.set(phoneNumberId, Math.max(this.nextAt.get(phoneNumberId) ?? 0, untilMs));
  }

  /** The tasks due at `nowMs` (at most one per number) and how long until the next one is due. */
  take(nowMs: number): { due: ReadTask[]; waitMs: number | undefined } {
    const due: ReadTask[] = [];
    let wait: number | undefined;
    for (const [number, q] of this.queues) {
      const at = this.nextAt.get(number) ?? 0;
      if (at > nowMs) {
        wait = Math.min(wait ?? Infinity, at - nowMs);
        continue;
      }
      due.push(q.shift()!);
      this.queued -= 1;
      this.nextAt.set(number, nowMs + this.options.intervalMs);
      if (q.length === 0) this.queues.delete(number);
      else wait = Math.min(wait ?? Infinity, this.options.intervalMs);
    }
    // Pacing marks of idle numbers are dropped once past, so the map stays as small as the queues.
    for (const [number, at] of this.nextAt) if (at <= nowMs && !this.queues.has(number)) this.nextAt.delete(number);
    return { due, waitMs: wait };
  }
}
