import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../redis-keys';
import { metaTemplate, type MetaTemplate } from './meta-template';
import { specFromMeta, type TemplateSpec } from './spec';

/** Synced templates outlive a week without a sync only if Meta stays unreachable that long. */
export const TEMPLATE_STORE_TTL_S = 7 * 24 * 3600;

export interface StoredTemplates {
  wabaId: string;
  syncedAt: string;
  templates: MetaTemplate[];
}

/**
 * The template store: each business account's templates as Meta listed them, one Redis key per
 * account, written by the syncer and read by every service. A change is announced on a channel so
 * readers pick it up at once.
 */
export class RedisTemplateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async save(wabaId: string, templates: MetaTemplate[], syncedAt: string): Promise<void> {
    const value: StoredTemplates = { wabaId, syncedAt, templates };
    await this.redis
      .multi()
      .set(this.keys.templates(wabaId), JSON.stringify(value), 'EX', TEMPLATE_STORE_TTL_S)
      .publish(this.keys.templatesChangedChannel(), wabaId)
      .exec();
  }

  async load(wabaIds: readonly string[]): Promise<StoredTemplates[]> {
    if (wabaIds.length === 0) return [];
    const values = await this.redis.mget(...wabaIds.map((w) => this.keys.templates(w)));
    const out: StoredTemplates[] = [];
    values.forEach((v, i) => {
      if (!v) return;
      try {
        const parsed = JSON.parse(v) as StoredTemplates;
        const templates = (parsed.templates ?? []).flatMap((t) => {
          const r = metaTemplate.safeParse(t);
          return r.success ? [r.data] : [];
        });
        out.push({ wabaId: wabaIds[i]!, syncedAt: String(parsed.syncedAt), templates });
      } catch {
        // A corrupt entry is ignored: the next sync rewrites it.
      }
    });
    return out;
  }
}

/** The specs of stored templates; templates with an unknown category are left out (and reported). */
export function specsOf(stored: readonly StoredTemplates[]): { specs: TemplateSpec[]; skipped: string[] } {
  const specs: TemplateSpec[] = [];
  const skipped: string[] = [];
  for (const s of stored) {
    for (const t of s.templates) {
      const r = specFromMeta(s.wabaId, t);
      if (r.ok) specs.push(r.spec);
      else skipped.push(r.reason);
    }
  }
  return { specs, skipped };
}

const key = (wabaId: string, name: string, language: string) => `${wabaId}:${name}:${language}`;

/** Synced template specs held in memory; what catalogue lookups consult first. */
export class TemplateOverlay {
  private byKey = new Map<string, TemplateSpec>();

  replace(specs: readonly TemplateSpec[]): void {
    this.byKey = new Map(specs.map((s) => [key(s.wabaId, s.name, s.language), s]));
  }

  get(wabaId: string, name: string, language: string): TemplateSpec | undefined {
    return this.byKey.get(key(wabaId, name, language));
  }

  all(): TemplateSpec[] {
    return [...this.byKey.values()];
  }
}

/**
 * Keeps a TemplateOverlay equal to the store: loads at start, re-reads on each change announcement
 * and every `refreshMs` as a safety net for a missed one.
 */
export class LiveTemplates {
  readonly overlay = new TemplateOverlay();
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly store: RedisTemplateStore;

  constructor(
    private readonly redis: Redis,
    private readonly deps: { keys: RedisKeys; wabaIds: readonly string[]; refreshMs: number; logger: Logger },
  ) {
    this.store = new RedisTemplateStore(redis, deps.keys);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.deps.keys.templatesChangedChannel());
    this.subscriber.on('message', () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const { specs, skipped } = specsOf(await this.store.load(this.deps.wabaIds));
      this.overlay.replace(specs);
      if (skipped.length > 0) this.deps.logger.warn({ skipped }, 'synced templates left out');
    } catch (err) {
      this.deps.logger.warn({ err }, 'template store refresh failed; keeping the last snapshot');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }
}
