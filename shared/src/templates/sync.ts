import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock';
import type { RedisKeys } from '../redis-keys';
import { metaTemplate, metaTemplatePage, TEMPLATE_FIELDS, type MetaTemplate } from './meta-template';
import { RedisTemplateStore } from './store';

export interface GraphTarget {
  baseUrl: string;
  version: string;
  timeoutMs?: number;
}

/** At most this many pages per account (100 templates each): a runaway cursor cannot loop forever. */
const MAX_PAGES = 100;

/**
 * Every template of a business account: `GET /{waba-id}/message_templates` followed page by page
 * through `paging.cursors.after` while Meta gives a `paging.next`
 * (developers.facebook.com/docs/graph-api/results — cursor-based pagination).
 */
export async function fetchTemplates(target: GraphTarget, wabaId: string, token: string): Promise<MetaTemplate[]> {
  const base = `${target.baseUrl.replace(/\/+$/, '')}/${target.version}/${wabaId}/message_templates`;
  const out: MetaTemplate[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(base);
    url.searchParams.set('fields', TEMPLATE_FIELDS);
    url.searchParams.set('limit', '100');
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(target.timeoutMs ?? 10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET message_templates of ${wabaId}: HTTP ${res.status} ${text.slice(0, 300)}`);
    const parsed = metaTemplatePage.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`GET message_templates of ${wabaId}: unexpected answer ${text.slice(0, 300)}`);
    for (const item of parsed.data.data) {
      const t = metaTemplate.safeParse(item);
      if (t.success) out.push(t.data);
    }
    after = parsed.data.paging?.cursors?.after;
    if (!parsed.data.paging?.next || after === undefined) return out;
  }
  throw new Error(`GET message_templates of ${wabaId}: more than ${MAX_PAGES} pages`);
}

export interface SyncResult {
  wabaId: string;
  ok: boolean;
  templates?: number;
  error?: string;
}

/**
 * Copies Meta's templates into the template store: at start-up, every `intervalMs`, and within a
 * second of a template webhook (message_template_status_update and the other template fields the
 * webhook service announces on the account-changes channel).
 */
export class TemplateSyncer {
  private readonly store: RedisTemplateStore;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private running = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly deps: {
      keys: RedisKeys;
      graph: GraphTarget;
      accessTokens: ReadonlyMap<string, string>;
      wabaIds: readonly string[];
      intervalMs: number;
      logger: Logger;
      clock?: Clock;
    },
  ) {
    this.store = new RedisTemplateStore(redis, deps.keys);
  }

  /** Syncs one account; failures are reported, never thrown (the last synced copy stays in use). */
  async syncOne(wabaId: string): Promise<SyncResult> {
    const token = this.deps.accessTokens.get(wabaId);
    if (!token) return { wabaId, ok: false, error: 'no access token for this business account' };
    try {
      const templates = await fetchTemplates(this.deps.graph, wabaId, token);
      await this.store.save(wabaId, templates, new Date((this.deps.clock ?? systemClock).now()).toISOString());
      return { wabaId, ok: true, templates: templates.length };
    } catch (err) {
      this.deps.logger.warn({ wabaId, err: (err as Error).message }, 'template sync failed; keeping the last synced templates');
      return { wabaId, ok: false, error: (err as Error).message };
    }
  }

  /** Syncs every account, one after another (syncs never overlap). */
  syncAll(): Promise<SyncResult[]> {
    const run = this.running.then(() => Promise.all(this.deps.wabaIds.map((w) => this.syncOne(w))));
    this.running = run.then(() => undefined);
    return run;
  }

  async start(): Promise<SyncResult[]> {
    const results = await this.syncAll();
    this.deps.logger.info({ results }, 'templates synced');
    if (this.deps.intervalMs > 0) {
      this.timer = setInterval(() => void this.syncAll(), this.deps.intervalMs);
      this.timer.unref();
    }
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.deps.keys.accountChangesChannel());
    this.subscriber.on('message', (_channel, message) => this.onAccountChange(message));
    return results;
  }

  private onAccountChange(message: string): void {
    let change: { kind?: unknown; wabaId?: unknown };
    try {
      change = JSON.parse(message) as typeof change;
    } catch {
      return;
    }
    if (typeof change.kind !== 'string' || !change.kind.startsWith('template') || typeof change.wabaId !== 'string') return;
    const wabaId = change.wabaId;
    if (!this.deps.wabaIds.includes(wabaId) || this.pending.has(wabaId)) return;
    // A burst of template webhooks (one per language) becomes one sync.
    const t = setTimeout(() => {
      this.pending.delete(wabaId);
      this.running = this.running.then(() => this.syncOne(wabaId)).then(() => undefined);
    }, 500);
    t.unref();
    this.pending.set(wabaId, t);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
    await this.running;
  }
}
