import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { backoffDelayMs } from '@wa/shared/backoff';
import type { Clock } from '@wa/shared/clock';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import type { Redis } from '@wa/shared/redis';
import type { RedisKeys } from '@wa/shared/redis-keys';
import { ReadSchedule, type ReadTask } from '../domain/read-schedule';

/**
 * Meta accepts a read mark within 30 days of receipt; marking one message also marks the earlier
 * ones of the conversation (developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read).
 */
export const MARK_READ_MAX_AGE_MS = 30 * 86_400_000;
/** Long enough to absorb a replayed normaliser batch; Meta's redeliveries are already dropped by the dedupe. */
const MARKED_TTL_S = 86_400;
const MAX_ATTEMPTS = 4;
const MAX_IN_FLIGHT = 16;
/** Meta's throttle answers: account/app rate limits and the number's throughput (130429). */
const THROTTLE_CODES = new Set([4, 80007, 130429, 131056]);

export type MarkReadResult = 'marked' | 'duplicate' | 'refused' | 'failed' | 'dropped' | 'too_old' | 'no_token';

export interface ReadMarkerOptions {
  baseUrl: string;
  version: string;
  accessTokens: ReadonlyMap<string, string>;
  /** Most mark-as-read calls per second per business number. */
  perNumberMps: number;
  maxQueued: number;
  timeoutMs: number;
  redis: Redis;
  keys: RedisKeys;
  counter: Counter<'result'>;
  logger: Logger;
  clock: Clock;
  random?: () => number;
}

/**
 * Marks inbound messages as read at Meta (POST /{phone-number-id}/messages with status "read"), off
 * the normaliser's path: `offer` only queues and returns, calls go out paced per number in the
 * background, a throttled number is paused, and a message is marked once (a Redis mark set before
 * the call; released when the call finally fails, so a replay may try again).
 */
export class ReadMarker {
  private readonly schedule: ReadSchedule;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private inFlight = 0;
  private readonly settled = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: ReadMarkerOptions) {
    this.schedule = new ReadSchedule({ intervalMs: Math.max(1, Math.round(1000 / o.perNumberMps)), maxQueued: o.maxQueued });
  }

  /** Queues the read marks of freshly normalised inbound messages; never waits. */
  offer(events: readonly InboundEventV1[]): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    for (const e of events) {
      if (now - Date.parse(e.sentAt) > MARK_READ_MAX_AGE_MS) this.count('too_old');
      else if (!this.o.accessTokens.has(e.wabaId)) this.count('no_token');
      else if (!this.schedule.offer({ wamid: e.wamid, phoneNumberId: e.phoneNumberId, wabaId: e.wabaId, attempt: 0 })) this.count('dropped');
    }
    this.pump();
  }

  get queued(): number {
    return this.schedule.size;
  }

  /** Stops taking work and waits (up to `timeoutMs`) for calls in flight; what is still queued is dropped. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const pending = Promise.all(this.settled);
    await Promise.race([pending, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private count(result: MarkReadResult): void {
    this.o.counter.inc({ result });
  }

  private pump(): void {
    if (this.closed) return;
    while (this.inFlight < MAX_IN_FLIGHT) {
      const { due, waitMs } = this.schedule.take(this.o.clock.now());
      for (const task of due) this.start(task);
      if (due.length === 0) {
        if (waitMs !== undefined) this.wake(waitMs);
        return;
      }
    }
  }

  private wake(ms: number): void {
    const at = this.o.clock.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, ms);
    this.timer.unref();
  }

  private start(task: ReadTask): void {
    this.inFlight += 1;
    const p = this.mark(task)
      .catch((err: unknown) => {
        this.o.logger.warn({ err, phoneNumberId: task.phoneNumberId }, 'mark-as-read failed');
        this.count('failed');
      })
      .finally(() => {
        this.inFlight -= 1;
        this.settled.delete(p);
        this.pump();
      });
    this.settled.add(p);
  }

  private async mark(task: ReadTask): Promise<void> {
    const key = this.o.keys.readMarked(task.wamid);
    if (task.attempt === 0 && (await this.o.redis.set(key, '1', 'EX', MARKED_TTL_S, 'NX')) === null) return this.count('duplicate');
    const answer = await this.post(task);
    if (answer.ok) return this.count('marked');
    const throttled = answer.code !== undefined && THROTTLE_CODES.has(answer.code);
    const transient = throttled || answer.status === undefined || answer.status === 429 || answer.status >= 500;
    if (transient && task.attempt + 1 < MAX_ATTEMPTS && !this.closed) {
      const delay = backoffDelayMs(task.attempt, { baseMs: 1_000, maxMs: 30_000, jitter: 'equal' }, this.o.random);
      this.schedule.pause(task.phoneNumberId, this.o.clock.now() + delay);
      if (this.schedule.offer({ ...task, attempt: task.attempt + 1 }, true)) return;
    }
    if (transient) await this.o.redis.del(key);
    this.o.logger.debug({ phoneNumberId: task.phoneNumberId, status: answer.status, code: answer.code }, 'mark-as-read not done');
    this.count(transient ? 'failed' : 'refused');
  }

  private async post(task: ReadTask): Promise<{ ok: boolean; status?: number; code?: number }> {
    const url = `${this.o.baseUrl.replace(/\/$/, '')}/${this.o.version}/${task.phoneNumberId}/messages`;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.accessTokens.get(task.wabaId)!}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', status: 'read', message_id: task.wamid }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      const body = (await res.json().catch(() => ({}))) as { success?: boolean; error?: { code?: number } };
      return { ok: res.ok && body.success === true, status: res.status, ...(typeof body.error?.code === 'number' ? { code: body.error.code } : {}) };
    } catch {
      return { ok: false };
    }
  }
}
