import type { TemplateCategory } from '../contracts/common';
import type { MetaButton, MetaComponent, MetaTemplate } from './meta-template';

export type HeaderFormat = 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION';

/** What a send must supply for one button, by its index on the template. */
export interface ButtonSpec {
  index: number;
  /** Meta's button type: QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, FLOW, CATALOG, MPM, OTP, … */
  type: string;
  /** The send's `sub_type` for this button, when it takes a parameter. */
  subType?: 'url' | 'quick_reply' | 'copy_code' | 'flow' | 'catalog' | 'mpm';
  /** A parameter is required (URL with {{1}}, copy code, OTP, MPM). Quick reply/flow/catalog ones are optional. */
  required: boolean;
}

export interface PartSpec {
  header?: { format: HeaderFormat; params: string[] };
  /** Placeholder names in order: "1", "2", … (positional) or "first_name", … (named). */
  body: string[];
  buttons: ButtonSpec[];
}

/**
 * The parameters a template takes, derived from its components as Meta describes them: what the
 * product validates a request against before anything reaches Meta.
 */
export interface TemplateSpec extends PartSpec {
  wabaId: string;
  name: string;
  language: string;
  category: TemplateCategory;
  status: string;
  id?: string;
  quality?: string;
  parameterFormat: 'POSITIONAL' | 'NAMED';
  /** Carousel templates: the cards, each with its own header, body and buttons. */
  cards?: PartSpec[];
  limitedTimeOffer?: { hasExpiration: boolean };
  /** Component kinds the product cannot fill (listed so a send is refused with a reason). */
  unsupported: string[];
  source: 'meta' | 'catalog';
  /** Catalogue-only settings, kept on synced templates when the catalogue also declares them. */
  coalescible: boolean;
  digestTemplate?: string;
  /** Legacy counts (header, body, buttons) for code that only needs sizes. */
  headerParams: number;
  bodyParams: number;
  buttonParams: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Distinct placeholder names of a text, in order of first use. */
export function placeholders(text: string | undefined): string[] {
  if (!text) return [];
  const seen: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!seen.includes(m[1]!)) seen.push(m[1]!);
  return seen;
}

function buttonSpec(b: MetaButton, index: number, category: TemplateCategory): ButtonSpec {
  const type = b.type.toUpperCase();
  switch (type) {
    case 'URL':
      // Authentication templates list their OTP button as URL on some API versions: the code goes in.
      return placeholders(b.url).length > 0 || category === 'authentication'
        ? { index, type, subType: 'url', required: true }
        : { index, type, required: false };
    case 'OTP':
      // developers.facebook.com/documentation/business-messaging/whatsapp/templates/authentication-templates:
      // copy-code, one-tap and zero-tap buttons are all sent as sub_type "url" with the code.
      return { index, type, subType: 'url', required: true };
    case 'COPY_CODE':
      return { index, type, subType: 'copy_code', required: true };
    case 'QUICK_REPLY':
      return { index, type, subType: 'quick_reply', required: false };
    case 'FLOW':
      return { index, type, subType: 'flow', required: false };
    case 'CATALOG':
      return { index, type, subType: 'catalog', required: false };
    case 'MPM':
      return { index, type, subType: 'mpm', required: true };
    default:
      return { index, type, required: false };
  }
}

function partOf(components: readonly MetaComponent[], category: TemplateCategory, unsupported: string[]): PartSpec {
  const part: PartSpec = { body: [], buttons: [] };
  for (const c of components) {
    const type = c.type.toUpperCase();
    if (type === 'HEADER') {
      const format = (c.format ?? 'TEXT').toUpperCase() as HeaderFormat;
      part.header = { format, params: format === 'TEXT' ? placeholders(c.text) : [format.toLowerCase()] };
    } else if (type === 'BODY') part.body = placeholders(c.text);
    else if (type === 'BUTTONS') part.buttons = (c.buttons ?? []).map((b, i) => buttonSpec(b, i, category));
    else if (type !== 'FOOTER' && type !== 'CAROUSEL' && type !== 'LIMITED_TIME_OFFER') unsupported.push(type);
  }
  return part;
}

function categoryOf(value: string): TemplateCategory | undefined {
  const v = value.toLowerCase();
  return v === 'marketing' || v === 'utility' || v === 'authentication' ? v : undefined;
}

/** The spec of a template Meta returned; undefined (with a reason) when its category is unknown. */
export function specFromMeta(wabaId: string, t: MetaTemplate): { ok: true; spec: TemplateSpec } | { ok: false; reason: string } {
  const category = categoryOf(t.category);
  if (!category) return { ok: false, reason: `template ${t.name}/${t.language}: unknown category ${t.category}` };
  const unsupported: string[] = [];
  const main = partOf(t.components, category, unsupported);
  const spec: TemplateSpec = {
    ...main,
    wabaId,
    name: t.name,
    language: t.language,
    category,
    status: t.status.toUpperCase(),
    parameterFormat: (t.parameter_format ?? 'POSITIONAL').toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    unsupported,
    source: 'meta',
    coalescible: false,
    headerParams: main.header?.format === 'TEXT' ? main.header.params.length : main.header ? 1 : 0,
    bodyParams: main.body.length,
    buttonParams: main.buttons.filter((b) => b.required).length,
  };
  if (t.id !== undefined) spec.id = t.id;
  if (t.quality_score?.score !== undefined) spec.quality = t.quality_score.score;
  for (const c of t.components) {
    const type = c.type.toUpperCase();
    if (type === 'CAROUSEL') spec.cards = (c.cards ?? []).map((card) => partOf(card.components, category, unsupported));
    if (type === 'LIMITED_TIME_OFFER') spec.limitedTimeOffer = { hasExpiration: c.limited_time_offer?.has_expiration === true };
  }
  return { ok: true, spec };
}

/** A template declared in the catalogue file with parameter counts only (tests, offline use). */
export interface CatalogTemplateEntry {
  wabaId: string;
  name: string;
  language: string;
  category: TemplateCategory;
  headerParams: number;
  bodyParams: number;
  buttonParams: number;
  status: string;
  coalescible: boolean;
  digestTemplate?: string | undefined;
}

/**
 * A catalogue entry as a spec: a text header with `headerParams` parameters, a positional body and
 * `buttonParams` buttons each taking a parameter of any kind (the catalogue does not say which).
 */
export function specFromCatalog(t: CatalogTemplateEntry): TemplateSpec {
  const spec: TemplateSpec = {
    wabaId: t.wabaId,
    name: t.name,
    language: t.language,
    category: t.category,
    status: t.status,
    parameterFormat: 'POSITIONAL',
    body: Array.from({ length: t.bodyParams }, (_, i) => String(i + 1)),
    buttons: Array.from({ length: t.buttonParams }, (_, index) => ({ index, type: 'ANY', required: true })),
    unsupported: [],
    source: 'catalog',
    coalescible: t.coalescible,
    headerParams: t.headerParams,
    bodyParams: t.bodyParams,
    buttonParams: t.buttonParams,
  };
  if (t.headerParams > 0) spec.header = { format: 'TEXT', params: ['1'] };
  if (t.digestTemplate !== undefined) spec.digestTemplate = t.digestTemplate;
  return spec;
}

/** A compact description of a spec, for `templates show` and error details. */
export function describeSpec(spec: PartSpec & { parameterFormat?: string }): string {
  const parts: string[] = [];
  if (spec.header)
    parts.push(`header ${spec.header.format}${spec.header.format === 'TEXT' && spec.header.params.length ? `(${spec.header.params.join(',')})` : ''}`);
  parts.push(`body(${spec.body.join(',')})`);
  for (const b of spec.buttons) parts.push(`button ${b.index} ${b.type}${b.required ? ' [param]' : ''}`);
  return parts.join('; ');
}
