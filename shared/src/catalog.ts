import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { templateCategory } from './contracts/common';
import { formatIssues } from './decode';
import { specFromCatalog, type TemplateSpec } from './templates/spec';
import type { TemplateOverlay } from './templates/store';
import { DEFAULT_THROUGHPUT_MPS, MAX_THROUGHPUT_MPS } from './tiers';

/**
 * The catalogue of what this deployment sends from: business accounts, their phone numbers,
 * sender pools and approved templates. Ingest validates jobs against it; the dispatcher paces and
 * authenticates with it. Access tokens are NOT here: they come from the environment
 * (`WA_ACCESS_TOKENS`), keyed by business account id.
 */
export const catalogSchema = z
  .object({
    businesses: z
      .array(
        z
          .object({
            wabaId: z.string().regex(/^\d+$/),
            portfolioId: z.string().min(1).describe('business portfolio: numbers of all its accounts share one messaging limit'),
            name: z.string().optional(),
            messagingLimit: z.number().int().positive().nullable().default(250).describe('initial limit; webhooks update it live; null = unlimited'),
          })
          .strict(),
      )
      .min(1),
    phoneNumbers: z
      .array(
        z
          .object({
            id: z.string().regex(/^\d+$/),
            wabaId: z.string().regex(/^\d+$/),
            displayNumber: z.string().regex(/^\d{7,15}$/),
            throughputMps: z
              .number()
              .int()
              .min(1)
              .max(MAX_THROUGHPUT_MPS)
              .default(DEFAULT_THROUGHPUT_MPS)
              .describe("Meta's throughput for the number until Meta reports it (80 standard, 1,000 higher throughput, 20 for Business app numbers)"),
            maxThroughputMps: z
              .number()
              .int()
              .min(1)
              .max(MAX_THROUGHPUT_MPS)
              .optional()
              .describe('our ceiling: never send faster from this number, whatever Meta allows (e.g. to leave room for another system)'),
          })
          .strict(),
      )
      .min(1),
    pools: z.record(z.string(), z.array(z.string().regex(/^\d+$/)).min(1)).default({}),
    templates: z
      .array(
        z
          .object({
            wabaId: z.string().regex(/^\d+$/),
            name: z.string(),
            language: z.string(),
            category: templateCategory,
            headerParams: z.number().int().min(0).max(1).default(0),
            bodyParams: z.number().int().min(0).max(100).default(0),
            buttonParams: z.number().int().min(0).max(10).default(0),
            status: z.enum(['APPROVED', 'PAUSED', 'DISABLED', 'REJECTED', 'PENDING']).default('APPROVED'),
            coalescible: z.boolean().default(false).describe('notifications with this template may be merged per recipient'),
            digestTemplate: z.string().optional().describe('template (same business account and language) that coalesced notifications are merged into'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((catalog, ctx) => {
    const wabas = new Set(catalog.businesses.map((b) => b.wabaId));
    const numbers = new Set(catalog.phoneNumbers.map((n) => n.id));
    catalog.phoneNumbers.forEach((n, i) => {
      if (!wabas.has(n.wabaId)) ctx.addIssue({ code: 'custom', path: ['phoneNumbers', i, 'wabaId'], message: `unknown business ${n.wabaId}` });
    });
    for (const [pool, ids] of Object.entries(catalog.pools)) {
      ids.forEach((id, i) => {
        if (!numbers.has(id)) ctx.addIssue({ code: 'custom', path: ['pools', pool, i], message: `unknown phone number ${id}` });
      });
    }
  });
export type Catalog = z.output<typeof catalogSchema>;

export function parseCatalog(input: unknown): Catalog {
  const result = catalogSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid catalog: ${formatIssues(result.error)}`);
  return result.data;
}

/** Reads and validates a catalogue file; fails at start-up with every bad field named. */
export function loadCatalogFile(path: string): Catalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read catalog ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCatalog(raw);
}

/**
 * Lookups over a catalogue, built once. Templates come from the template store (synced from Meta)
 * when `templates` is given and holds the template, else from the catalogue file; a synced template
 * keeps the catalogue's coalescing settings for the same name and language.
 */
export function indexCatalog(catalog: Catalog, templates?: TemplateOverlay) {
  const numbers = new Map(catalog.phoneNumbers.map((n) => [n.id, n]));
  const businesses = new Map(catalog.businesses.map((b) => [b.wabaId, b]));
  const declared = new Map(catalog.templates.map((t) => [`${t.wabaId}:${t.name}:${t.language}`, specFromCatalog(t)]));
  const template = (wabaId: string, name: string, language: string): TemplateSpec | undefined => {
    const own = declared.get(`${wabaId}:${name}:${language}`);
    const synced = templates?.get(wabaId, name, language);
    if (!synced) return own;
    if (!own) return synced;
    return { ...synced, coalescible: own.coalescible, ...(own.digestTemplate !== undefined ? { digestTemplate: own.digestTemplate } : {}) };
  };
  return {
    catalog,
    phoneNumber: (id: string) => numbers.get(id),
    business: (wabaId: string) => businesses.get(wabaId),
    businessOfNumber: (id: string) => {
      const n = numbers.get(id);
      return n ? businesses.get(n.wabaId) : undefined;
    },
    pool: (name: string) => catalog.pools[name],
    template,
    /** A template by name and language in any business account (ingest validates before a sender is picked). */
    templateAnywhere: (name: string, language: string) => {
      for (const b of catalog.businesses) {
        const t = template(b.wabaId, name, language);
        if (t) return t;
      }
      return undefined;
    },
    /** Every template known: synced ones and those only the catalogue declares. */
    templates: (): TemplateSpec[] => {
      const all = new Map<string, TemplateSpec>();
      for (const t of declared.values()) all.set(`${t.wabaId}:${t.name}:${t.language}`, t);
      for (const t of templates?.all() ?? []) all.set(`${t.wabaId}:${t.name}:${t.language}`, template(t.wabaId, t.name, t.language)!);
      return [...all.values()];
    },
  };
}
export type CatalogIndex = ReturnType<typeof indexCatalog>;

/** Parses `WA_ACCESS_TOKENS` ("wabaId=token,wabaId=token"): the only source of Graph API tokens. */
export function parseAccessTokens(value: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const pair of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new Error('WA_ACCESS_TOKENS entries must look like wabaId=token');
    tokens.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return tokens;
}
