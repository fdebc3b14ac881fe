import type { Redis } from 'ioredis';
import { indexCatalog, parseAccessTokens, type Catalog } from '@wa/shared/catalog';
import { createLogger } from '@wa/shared/logger';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { describeSpec, type TemplateSpec } from '@wa/shared/templates/spec';
import { RedisTemplateStore, specsOf, TemplateOverlay } from '@wa/shared/templates/store';
import { TemplateSyncer, type SyncResult } from '@wa/shared/templates/sync';

export interface TemplatesDeps {
  redis: Redis;
  keyPrefix: string;
  catalog: Catalog;
}

/** `templates sync`: copies every business account's templates from Meta into the store now. */
export async function templatesSync(deps: TemplatesDeps & { accessTokens: string; graph: { baseUrl: string; version: string } }): Promise<SyncResult[]> {
  const syncer = new TemplateSyncer(deps.redis, {
    keys: createRedisKeys(deps.keyPrefix),
    graph: deps.graph,
    accessTokens: parseAccessTokens(deps.accessTokens),
    wabaIds: deps.catalog.businesses.map((b) => b.wabaId),
    intervalMs: 0,
    logger: createLogger({ service: 'wa-cli', level: 'silent' }),
  });
  return syncer.syncAll();
}

/** Every template the services would use: synced from Meta, else declared in the catalogue. */
export async function templatesKnown(deps: TemplatesDeps): Promise<{ templates: TemplateSpec[]; syncedAt: Record<string, string>; skipped: string[] }> {
  const stored = await new RedisTemplateStore(deps.redis, createRedisKeys(deps.keyPrefix)).load(deps.catalog.businesses.map((b) => b.wabaId));
  const { specs, skipped } = specsOf(stored);
  const overlay = new TemplateOverlay();
  overlay.replace(specs);
  const templates = indexCatalog(deps.catalog, overlay).templates();
  return { templates, syncedAt: Object.fromEntries(stored.map((s) => [s.wabaId, s.syncedAt])), skipped };
}

/** One line per template for `templates list`. */
export function listLine(t: TemplateSpec): string {
  return [t.wabaId, t.name, t.language, t.category, t.status, t.parameterFormat, t.quality ?? '-', t.source].join('\t');
}

/** `templates show NAME`: what a request must give, component by component. */
export function showTemplate(t: TemplateSpec): Record<string, unknown> {
  return {
    wabaId: t.wabaId,
    name: t.name,
    language: t.language,
    category: t.category,
    status: t.status,
    parameterFormat: t.parameterFormat,
    quality: t.quality ?? null,
    source: t.source,
    header: t.header ?? null,
    body: t.body,
    buttons: t.buttons,
    ...(t.cards ? { cards: t.cards } : {}),
    ...(t.limitedTimeOffer ? { limitedTimeOffer: t.limitedTimeOffer } : {}),
    ...(t.unsupported.length ? { unsupported: t.unsupported } : {}),
    summary: describeSpec(t),
  };
}
