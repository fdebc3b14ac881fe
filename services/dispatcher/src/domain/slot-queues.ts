import type { Lane } from '@wa/shared/contracts/common';
import { LANES_BY_PRIORITY } from '@wa/shared/contracts/common';
import type { Clock, SendGuard, Timers } from '../ports';
import { slotIntervalMs } from './pacing';

interface Waiter {
  resolve: (waitedMs: number) => void;
  reject: (err: unknown) => void;
  enqueuedAt: number;
}

type Lanes = Record<Lane, Waiter[]>;

export interface SlotQueuesOptions {
  guard: Pick<SendGuard, 'reserve'>;
  timers: Timers;
  /** Measures how long a waiter waited (what acquire resolves to). */
  clock: Clock;
  targetMpsOf: (phoneNumberId: string) => number;
  /** Slots are reserved at most this far ahead, so a newly arrived auth job overtakes queued marketing. */
  reserveAheadMs: number;
}

/**
 * The first layer of pacing: per number, waiters queue by lane, and each small batch of slots reserved on
 * the number's shared timeline (GCRA, SendGuard.reserve) goes to the highest-priority lane first
 * (auth → utility → marketing). Slots are reserved only `reserveAheadMs` ahead, so priority holds within
 * about that time.
 */
export class SlotQueues {
  private readonly queues = new Map<string, Lanes>();
  private readonly pumping = new Set<string>();
  private closed = false;

  constructor(private readonly options: SlotQueuesOptions) {}

  /** Resolves when the number's next slot for this waiter is due, with the wait in ms. */
  acquire(phoneNumberId: string, lane: Lane): Promise<number> {
    if (this.closed) return Promise.reject(new Error('rate limiter closed'));
    let q = this.queues.get(phoneNumberId);
    if (!q) this.queues.set(phoneNumberId, (q = { auth: [], utility: [], marketing: [] }));
    const enqueuedAt = this.options.clock.now();
    const queue = q[lane];
    const promise = new Promise<number>((resolve, reject) => {
      queue.push({ resolve, reject, enqueuedAt });
    });
    void this.pump(phoneNumberId, q);
    return promise;
  }

  /** Turns every waiter away. */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) for (const w of take(q, waiting(q))) w.reject(new Error('rate limiter closed'));
  }

  private async pump(phoneNumberId: string, q: Lanes): Promise<void> {
    if (this.pumping.has(phoneNumberId)) return;
    this.pumping.add(phoneNumberId);
    const { guard, timers, reserveAheadMs } = this.options;
    try {
      while (!this.closed && waiting(q) > 0) {
        const interval = slotIntervalMs(this.options.targetMpsOf(phoneNumberId));
        const n = Math.min(waiting(q), Math.max(1, Math.floor(reserveAheadMs / interval)));
        let firstWaitMs: number;
        try {
          firstWaitMs = (await guard.reserve(phoneNumberId, interval, n)) - timers.now();
        } catch (err) {
          for (const w of take(q, waiting(q))) w.reject(err);
          return;
        }
        const batch = take(q, n);
        batch.forEach((w, i) => {
          const wait = firstWaitMs + i * interval;
          const fire = () => w.resolve(this.options.clock.now() - w.enqueuedAt);
          // Never before the slot: an early send is what makes a sliding second overflow.
          if (wait <= 0) fire();
          else timers.setTimeout(fire, Math.ceil(wait));
        });
        // Do not reserve further ahead than reserveAheadMs: later arrivals of a higher lane go first.
        const batchEndMs = firstWaitMs + n * interval;
        if (batchEndMs > reserveAheadMs) await new Promise<void>((r) => timers.setTimeout(r, batchEndMs - reserveAheadMs));
      }
    } finally {
      this.pumping.delete(phoneNumberId);
    }
  }
}

function waiting(q: Lanes): number {
  return q.auth.length + q.utility.length + q.marketing.length;
}

function take(q: Lanes, n: number): Waiter[] {
  const out: Waiter[] = [];
  for (const lane of LANES_BY_PRIORITY) {
    while (out.length < n && q[lane].length > 0) out.push(q[lane].shift()!);
  }
  return out;
}
