import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CatalogIndex } from '@wa/shared/catalog';
import type { RedisKeys } from '@wa/shared/redis-keys';
import type { AccountStanding } from '@wa/shared/account-standing';
import type { TemplateCategoryChange } from '@wa/shared/template-category';
import { parseMessagingLimit } from '@wa/shared/tiers';
import type { TemplateLiveFacts } from '../domain/live-template';
import { cappedThroughput, mergePhoneState, type PhoneState, type Sourced } from '../domain/sender-state';
import type { AccountState } from '../ports';

type TemplateQuality = { score: string; previous?: string; updatedAt: string };

interface Snapshot {
  limits: Map<string, Sourced<number | null>>;
  phones: Map<string, PhoneState>;
  templates: Map<string, string>;
  paused: Map<string, string>;
  standing: Map<string, AccountStanding>;
  categories: Map<string, TemplateCategoryChange>;
  qualities: Map<string, TemplateQuality>;
}

const emptySnapshot = (): Snapshot => ({
  limits: new Map(),
  phones: new Map(),
  templates: new Map(),
  paused: new Map(),
  standing: new Map(),
  categories: new Map(),
  qualities: new Map(),
});

/** The stored standing, with its restriction list as a list (Redis's cjson writes an empty one as {}). */
function standingOf(v: Record<string, unknown> | undefined): AccountStanding | undefined {
  if (v === undefined) return undefined;
  const s = v as AccountStanding;
  if (s.restriction !== undefined && !Array.isArray(s.restriction.items)) s.restriction.items = [];
  return s;
}

function parseJson(v: string | null): Record<string, unknown> | undefined {
  if (!v) return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Account state the webhook service writes (messaging limits, quality/throughput, template
 * status) plus the dispatcher's own account pauses. Held in memory and re-read on every message on
 * the account-changes channel, so a tier change applies within milliseconds; a periodic refresh is
 * the safety net for a missed publish.
 */
export class RedisAccountState implements AccountState {
  private snapshot: Snapshot = emptySnapshot();
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  readonly pausedChannel: string;
  private readonly pausedPrefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly deps: { keys: RedisKeys; keyPrefix: string; catalog: CatalogIndex; refreshMs: number; logger: Logger; onChange?: () => void },
  ) {
    this.pausedChannel = `${deps.keyPrefix}wa:dispatch:account-pauses`;
    this.pausedPrefix = `${deps.keyPrefix}wa:dispatch:account-paused:`;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.deps.keys.accountChangesChannel(), this.pausedChannel);
    this.subscriber.on('message', () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  /** Re-reads every account key in one MGET; concurrent calls coalesce into one more read. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          await this.readAll();
        } catch (err) {
          this.deps.logger.warn({ err }, 'account state refresh failed; keeping the last snapshot');
        }
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readAll(): Promise<void> {
    const { catalog, keys } = this.deps;
    const wabas = catalog.catalog.businesses.map((b) => b.wabaId);
    const phones = catalog.catalog.phoneNumbers;
    const templates = catalog.catalog.templates;
    const known = catalog.templates();
    const all = [
      ...wabas.map((w) => keys.messagingLimit(w)),
      ...phones.flatMap((p) => [keys.phoneQuality(p.id), keys.phoneStateByDisplay(p.displayNumber)]),
      ...templates.map((t) => keys.templateStatus(t.wabaId, t.name, t.language)),
      ...wabas.map((w) => this.pausedPrefix + w),
      ...wabas.map((w) => keys.accountStanding(w)),
      ...known.flatMap((t) => [keys.templateCategory(t.wabaId, t.name, t.language), keys.templateQuality(t.wabaId, t.name, t.language)]),
    ];
    const values = await this.redis.mget(...all);
    const next = emptySnapshot();
    let i = 0;
    for (const w of wabas) {
      const v = parseJson(values[i++] ?? null);
      const parsed = v ? parseMessagingLimit(v.limit === null ? -1 : v.limit) : undefined;
      if (v && parsed !== undefined) {
        const sourced: Sourced<number | null> = { value: parsed, source: v.source === 'graph_api' ? 'graph_api' : 'webhook' };
        if (typeof v.updatedAt === 'string') sourced.at = v.updatedAt;
        if (typeof v.event === 'string') sourced.event = v.event;
        next.limits.set(w, sourced);
      }
    }
    for (const p of phones) {
      const byId = parseJson(values[i++] ?? null);
      const byDisplay = parseJson(values[i++] ?? null);
      next.phones.set(p.id, mergePhoneState(p.throughputMps, [byId, byDisplay]));
    }
    for (const t of templates) {
      const v = values[i++];
      if (v) next.templates.set(`${t.wabaId}:${t.name}:${t.language}`, v.startsWith('{') ? String(parseJson(v)?.status ?? v) : v);
    }
    for (const w of wabas) {
      const v = values[i++];
      if (v) next.paused.set(w, v);
    }
    for (const w of wabas) {
      const v = standingOf(parseJson(values[i++] ?? null));
      if (v) next.standing.set(w, v);
    }
    for (const t of known) {
      const key = `${t.wabaId}:${t.name}:${t.language}`;
      const category = parseJson(values[i++] ?? null);
      const quality = parseJson(values[i++] ?? null);
      if (category && typeof category.to === 'string' && typeof category.effectiveAtMs === 'number')
        next.categories.set(key, category as unknown as TemplateCategoryChange);
      if (quality && typeof quality.score === 'string') next.qualities.set(key, quality as unknown as TemplateQuality);
    }
    this.snapshot = next;
    this.deps.onChange?.();
  }

  messagingLimit(wabaId: string): number | null {
    return this.messagingLimitState(wabaId).value;
  }

  /** The portfolio's limit with where it came from (GET /v1/senders). */
  messagingLimitState(wabaId: string): Sourced<number | null> {
    const known = this.snapshot.limits.get(wabaId);
    if (known !== undefined) return known;
    const b = this.deps.catalog.business(wabaId);
    return { value: b ? b.messagingLimit : 250, source: 'catalogue' };
  }

  /** What Meta allows the number (webhooks, Graph API, catalogue), under the catalogue's ceiling if it sets one. */
  throughputMps(phoneNumberId: string): number {
    return cappedThroughput(this.phoneState(phoneNumberId).throughputMps.value, this.deps.catalog.phoneNumber(phoneNumberId)?.maxThroughputMps);
  }

  quality(phoneNumberId: string): string | undefined {
    return this.snapshot.phones.get(phoneNumberId)?.quality?.value;
  }

  /** The number's throughput and quality with where each came from (GET /v1/senders). */
  phoneState(phoneNumberId: string): PhoneState {
    return (
      this.snapshot.phones.get(phoneNumberId) ?? {
        throughputMps: { value: this.deps.catalog.phoneNumber(phoneNumberId)?.throughputMps ?? 80, source: 'catalogue' },
      }
    );
  }

  templateStatus(wabaId: string, name: string, language: string): string | undefined {
    return this.snapshot.templates.get(`${wabaId}:${name}:${language}`) ?? this.deps.catalog.template(wabaId, name, language)?.status;
  }

  templateFacts(wabaId: string, name: string, language: string): TemplateLiveFacts {
    const key = `${wabaId}:${name}:${language}`;
    const facts: TemplateLiveFacts = {};
    const status = this.snapshot.templates.get(key);
    const change = this.snapshot.categories.get(key);
    if (status !== undefined) facts.status = status;
    if (change !== undefined) facts.categoryChange = change;
    return facts;
  }

  templateQuality(wabaId: string, name: string, language: string): TemplateQuality | undefined {
    return this.snapshot.qualities.get(`${wabaId}:${name}:${language}`);
  }

  standing(wabaId: string): AccountStanding | undefined {
    return this.snapshot.standing.get(wabaId);
  }

  async recipient(phoneNumberId: string, wabaId: string, waId: string): Promise<{ optedOut: boolean; lastInboundMs: number | undefined }> {
    const [optOut, window] = await this.redis.mget(this.deps.keys.optOut(wabaId, waId), this.deps.keys.serviceWindow(phoneNumberId, waId));
    const last = window ? Number(window) : undefined;
    return { optedOut: optOut != null && optOut.startsWith('1'), lastInboundMs: last !== undefined && Number.isFinite(last) ? last : undefined };
  }

  accountPaused(wabaId: string): boolean {
    return this.snapshot.paused.has(wabaId);
  }

  pausedAccounts(): ReadonlyMap<string, string> {
    return this.snapshot.paused;
  }

  async pauseAccount(wabaId: string, reason: string): Promise<void> {
    this.snapshot.paused.set(wabaId, reason);
    await this.redis.set(this.pausedPrefix + wabaId, reason.slice(0, 500));
    await this.redis.publish(this.pausedChannel, wabaId);
  }

  async resumeAccount(wabaId: string): Promise<void> {
    this.snapshot.paused.delete(wabaId);
    await this.redis.del(this.pausedPrefix + wabaId);
    await this.redis.publish(this.pausedChannel, wabaId);
  }
}
