import type { Redis } from 'ioredis';
import { campaignChangesChannel, campaignKey, CAMPAIGN_TTL_SECONDS, readCampaign, type CampaignSummary } from '@wa/shared/campaigns';
import { systemClock, UnknownCampaignError, type CampaignControl, type CampaignState, type Clock } from '../ports';

/** Most campaign states cached per replica. */
export const CAMPAIGN_CACHE_MAX = 10_000;

/**
 * Campaign pause/resume/cancel and outcome counts, in the campaign's record (shared/campaigns.ts)
 * plus a pub/sub announcement. Each replica caches states for at most `cacheMs` and drops a cached
 * state as soon as the announcement arrives, so a change applies everywhere within a second even
 * if a publish is missed; listeners (the retry consumer) hear of each change.
 */
export class RedisCampaigns implements CampaignControl {
  private readonly cache = new Map<string, { state: CampaignState; at: number }>();
  /** Reads of a campaign's state in flight, shared by every job that asks meanwhile. */
  private readonly reading = new Map<string, Promise<CampaignState>>();
  private subscriber: Redis | undefined;
  private readonly channel: string;
  private readonly pending = new Map<string, Map<string, number>>();
  private readonly listeners: ((campaignId: string) => void)[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; cacheMs: number; maxCached?: number; clock?: Clock },
  ) {
    this.channel = campaignChangesChannel(options.keyPrefix);
  }

  private key(id: string): string {
    return campaignKey(this.options.keyPrefix, id);
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  async start(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (_channel, id: string) => {
      this.forget(id);
      for (const listener of this.listeners) listener(id);
    });
    this.flushTimer = setInterval(() => void this.flushCounts(), 250);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushCounts();
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  /** Called with the campaign id whenever a campaign's state changes (on any replica). */
  onChange(listener: (campaignId: string) => void): void {
    this.listeners.push(listener);
  }

  async state(id: string): Promise<CampaignState> {
    const hit = this.cached(id);
    if (hit) return hit;
    // One read per campaign at a time: when a cached state expires, every job in flight of a big campaign
    // (hundreds) missed at once and each sent its own HGET (0.56 per job in `npm run bench`).
    return this.reading.get(id) ?? this.read(id);
  }

  private read(id: string): Promise<CampaignState> {
    const read: Promise<CampaignState> = this.redis
      .hget(this.key(id), 'state')
      .then((v) => {
        const state: CampaignState = v === 'paused' || v === 'cancelled' ? v : 'active';
        // Forgotten while out (a change announced meanwhile may not be in it): answer it, but do not cache it.
        if (this.reading.get(id) === read) this.remember(id, { state, at: this.now() });
        return state;
      })
      .finally(() => {
        if (this.reading.get(id) === read) this.reading.delete(id);
      });
    this.reading.set(id, read);
    return read;
  }

  /** A change of `id` was made or announced: later asks read Redis again. */
  private forget(id: string): void {
    this.cache.delete(id);
    this.reading.delete(id);
  }

  /** The state if cached and fresh (no Redis round trip), else undefined. A hit becomes the most recently used. */
  cached(id: string): CampaignState | undefined {
    const hit = this.cache.get(id);
    if (!hit || this.now() - hit.at >= this.options.cacheMs) return undefined;
    this.cache.delete(id);
    this.cache.set(id, hit);
    return hit.state;
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
    const key = this.key(id);
    const [created, current] = await this.redis.hmget(key, 'created', 'state');
    if (created === null) throw new UnknownCampaignError(id);
    // Cancelled is final: a cancelled campaign's remaining jobs are already being closed out.
    if (current === 'cancelled' && state !== 'cancelled') throw new Error('campaign_cancelled');
    const tx = this.redis.multi();
    if (state === 'active') tx.hdel(key, 'state');
    else tx.hset(key, 'state', state);
    await tx.expire(key, CAMPAIGN_TTL_SECONDS).exec();
    this.forget(id);
    await this.redis.publish(this.channel, id);
  }

  /** Counts outcomes per campaign; batched into one pipeline every 250 ms. */
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
    const now = this.now();
    const pipeline = this.redis.pipeline();
    for (const [id, m] of batch) {
      const key = this.key(id);
      for (const [outcome, n] of m) pipeline.hincrby(key, `o:${outcome}`, n);
      pipeline.hsetnx(key, 'first', now).hset(key, 'last', now).expire(key, CAMPAIGN_TTL_SECONDS);
    }
    await pipeline.exec().catch(() => undefined);
  }

  async summary(id: string): Promise<CampaignSummary | null> {
    await this.flushCounts();
    return readCampaign(this.redis, this.options.keyPrefix, id);
  }
}
