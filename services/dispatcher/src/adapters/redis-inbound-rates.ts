import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { inboundRateFromBuckets, type InboundRate } from '@wa/shared/inbound-rate';
import type { RedisKeys } from '@wa/shared/redis-keys';
import type { Clock } from '../ports';

const UNKNOWN: InboundRate = { mps: 0, held: false };
/** A number not asked about for this long is no longer read. */
const ACTIVE_FOR_MS = 60_000;

/**
 * What people send to each number the dispatcher is sending from (inbound messages per second, counted by the
 * webhook normaliser by Meta's timestamps): re-read every `refreshMs` in one pipeline, answered from memory on
 * the send path. Unknown (no read yet, Redis down) reads as 0, which leaves the configured headroom.
 */
export class RedisInboundRates {
  private readonly rates = new Map<string, InboundRate>();
  private readonly askedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly redis: Redis,
    private readonly deps: { keys: RedisKeys; clock: Clock; refreshMs: number; logger: Logger },
  ) {}

  /** Recent inbound messages per second of a number; marks it active. */
  rateOf(phoneNumberId: string): InboundRate {
    this.askedAt.set(phoneNumberId, this.deps.clock.now());
    return this.rates.get(phoneNumberId) ?? UNKNOWN;
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const now = this.deps.clock.now();
      const ids: string[] = [];
      for (const [id, at] of this.askedAt) {
        if (now - at > ACTIVE_FOR_MS) {
          this.askedAt.delete(id);
          this.rates.delete(id);
        } else ids.push(id);
      }
      if (ids.length === 0) return;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.deps.keys.inboundRate(id));
      const replies = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const [err, counts] = replies[i] ?? [null, {}];
        if (!err) this.rates.set(id, inboundRateFromBuckets((counts ?? {}) as Record<string, string>, now));
      });
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'inbound rates not read; keeping the last ones');
    } finally {
      this.reading = false;
    }
  }
}
