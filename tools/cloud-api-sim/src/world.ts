import type { MessagingLimit, Scenario, TemplateConfig } from './scenario';
import { componentsFromParams } from './templates';

export type TemplateStatus = 'APPROVED' | 'PAUSED' | 'DISABLED' | 'REJECTED' | 'PENDING_DELETION';
export type Quality = 'GREEN' | 'YELLOW' | 'RED';

export interface BusinessState {
  readonly idx: number;
  readonly id: string;
  messagingLimit: MessagingLimit;
}

export interface WabaState {
  readonly idx: number;
  readonly id: string;
  readonly business: BusinessState;
  readonly templates: Map<string, TemplateState>;
  /** Banned by an account_update DISABLED_UPDATE (waba_ban_state DISABLE) until REINSTATE: sends answer 131031. */
  banned: boolean;
}

export interface PhoneState {
  readonly idx: number;
  readonly id: string;
  readonly displayPhoneNumber: string;
  readonly waba: WabaState;
  throughputMps: number;
  quality: Quality;
}

export interface TemplateState {
  readonly idx: number;
  readonly id: string;
  readonly name: string;
  readonly language: string;
  category: TemplateConfig['category'];
  readonly params: TemplateConfig['params'];
  status: TemplateStatus;
  /** Meta's component definitions (see templates.ts); changed by `PUT /_sim/templates`. */
  components: Record<string, unknown>[];
  parameterFormat: 'POSITIONAL' | 'NAMED';
  quality: string;
  previousCategory?: TemplateConfig['category'];
}

/** The mutable world: limits, qualities and template statuses change with account events. */
export interface World {
  readonly businesses: BusinessState[];
  readonly wabas: WabaState[];
  readonly phones: PhoneState[];
  readonly templates: TemplateState[];
  readonly phoneById: Map<string, PhoneState>;
  readonly wabaById: Map<string, WabaState>;
  readonly businessById: Map<string, BusinessState>;
  /** Access token → the WABA it may act for. */
  readonly tokenToWaba: Map<string, WabaState>;
}

export const templateKey = (name: string, language: string): string => `${name}\u0000${language}`;

export function buildWorld(scenario: Scenario): World {
  const world: World = {
    businesses: [],
    wabas: [],
    phones: [],
    templates: [],
    phoneById: new Map(),
    wabaById: new Map(),
    businessById: new Map(),
    tokenToWaba: new Map(),
  };
  for (const b of scenario.businesses) {
    const business: BusinessState = { idx: world.businesses.length, id: b.id, messagingLimit: b.messagingLimit };
    world.businesses.push(business);
    world.businessById.set(b.id, business);
    for (const w of b.wabas) {
      const waba: WabaState = { idx: world.wabas.length, id: w.id, business, templates: new Map(), banned: false };
      world.wabas.push(waba);
      world.wabaById.set(w.id, waba);
      for (const t of w.accessTokens) world.tokenToWaba.set(t, waba);
      for (const p of w.phoneNumbers) {
        const phone: PhoneState = {
          idx: world.phones.length,
          id: p.id,
          displayPhoneNumber: p.displayPhoneNumber,
          waba,
          throughputMps: p.throughputMps,
          quality: p.quality,
        };
        world.phones.push(phone);
        world.phoneById.set(p.id, phone);
      }
      for (const t of w.templates) {
        const tpl: TemplateState = {
          idx: world.templates.length,
          id: t.id ?? String(9_000_000_000_000 + world.templates.length),
          name: t.name,
          language: t.language,
          category: t.category,
          params: t.params,
          status: t.status,
          components: t.components ?? componentsFromParams(t.params, t.category),
          parameterFormat: t.parameterFormat,
          quality: t.quality,
        };
        world.templates.push(tpl);
        waba.templates.set(templateKey(t.name, t.language), tpl);
      }
    }
  }
  return world;
}

export function limitNumber(limit: MessagingLimit): number {
  return limit === 'unlimited' ? Number.POSITIVE_INFINITY : limit;
}

/** Tier label as Meta writes it in webhooks (TIER_250, TIER_2K, …). */
export function tierLabel(limit: MessagingLimit): string {
  switch (limit) {
    case 250:
      return 'TIER_250';
    case 2000:
      return 'TIER_2K';
    case 10000:
      return 'TIER_10K';
    case 100000:
      return 'TIER_100K';
    default:
      return 'TIER_UNLIMITED';
  }
}
