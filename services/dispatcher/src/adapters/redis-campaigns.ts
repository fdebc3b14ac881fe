import type { Redis } from 'ioredis';
import type { CampaignControl, CampaignState } from '../ports';

/** Most campaign states cached per replica. */
export const CAMPAIGN_CACHE_MAX = 10_000;
/** Outcome counts live this long after a campaign's last counted outcome. */
export const CAMPAIGN_COUNTS_TTL_S = 90 * 86_400;

/**
 * Campaign pause/resume/cancel: a Redis key per campaign plus a pub/sub announcement. Each replica
 * caches states for at most `cacheMs` and drops a cached state as soon as the announcement arrives,
 * so a change applies everywhere within a second even if a publish is missed.
 */
export class RedisCampaigns implements CampaignControl {
  private readonly cache = new Map<string, { state: CampaignState; at: number }>();
  private subscriber: Redis | undefined;
  private readonly channel: string;
  private readonly pending = new Map<string, Map<string, number>>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; cacheMs: number; maxCached?: number },
  ) {
    this.channel = `${options.keyPrefix}wa:dispatch:campaign-changes`;
  }

  private key(id: string): string {
    return `${this.options.keyPrefix}wa:dispatch:campaign:${id}`;
  }
  private countsKey(id: string): string {
    return `${this.options.keyPrefix}wa:dispatch:campaign-counts:${id}`;
  }

  async start(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (_channel, id: string) => this.cache.delete(id));
    this.flushTimer = setInterval(() => void this.flushCounts(), 250);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushCounts();
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  async state(id: string): Promise<CampaignState> {
    const hit = this.cache.get(id);
    const now = Date.now();
    if (hit && now - hit.at < this.options.cacheMs) {
      // Least recently used first in iteration order: a hit moves to the end.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit.state;
    }
    const v = await this.redis.get(this.key(id));
    const state: CampaignState = v === 'paused' || v === 'cancelled' ? v : 'active';
    this.remember(id, { state, at: now });
    return state;
  }

  /** Caches a state, evicting the least recently used entry beyond the bound (campaign ids come from jobs). */
  private remember(id: string, entry: { state: CampaignState; at: number }): void {
    this.cache.delete(id);
    this.cache.set(id, entry);
    const max = this.options.maxCached ?? CAMPAIGN_CACHE_MAX;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Cached campaign states (for tests and metrics). */
  get cachedCount(): number {
    return this.cache.size;
  }

  async set(id: string, state: CampaignState): Promise<void> {
    const current = await this.redis.get(this.key(id));
    // Cancelled is final: a cancelled campaign's remaining jobs are already being closed out.
    if (current === 'cancelled' && state !== 'cancelled') throw new Error('campaign_cancelled');
    await this.redis.set(this.key(id), state);
    this.cache.delete(id);
    await this.redis.publish(this.channel, id);
  }

  /** Counts outcomes per campaign; batched into one HINCRBY pipeline every 250 ms. */
  count(id: string, outcome: string): void {
    let m = this.pending.get(id);
    if (!m) {
      m = new Map();
      this.pending.set(id, m);
    }
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  private async flushCounts(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    const pipeline = this.redis.pipeline();
    for (const [id, m] of batch) {
      for (const [outcome, n] of m) pipeline.hincrby(this.countsKey(id), outcome, n);
      pipeline.expire(this.countsKey(id), CAMPAIGN_COUNTS_TTL_S);
    }
    await pipeline.exec().catch(() => undefined);
  }

  async counts(id: string): Promise<Record<string, number>> {
    await this.flushCounts();
    const raw = await this.redis.hgetall(this.countsKey(id));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async stored(id: string): Promise<string | null> {
    return this.redis.get(this.key(id));
  }
}
