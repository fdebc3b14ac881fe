import { graphError, type GraphError } from './graph-errors';
import type { TemplateConfig } from './scenario';
import type { TemplateState, WabaState } from './world';

/**
 * Message templates as Meta defines and enforces them:
 * - the Message Templates API listing, `GET /{waba-id}/message_templates` with `fields`, `limit`,
 *   `after`, `name`, `status`, `category` (developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates,
 *   developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm);
 * - the check of a send's `template.components` against the template's components, refusing with
 *   Meta's codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes): 132000 parameter
 *   count, 132005 hydrated text too long, 132007 format character policy, 132012 parameter format,
 *   131008 required parameter missing, 131009 invalid parameter value.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

export function placeholders(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  const seen: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!seen.includes(m[1]!)) seen.push(m[1]!);
  return seen;
}

/** Components for a scenario template declared with parameter counts only. */
export function componentsFromParams(params: TemplateConfig['params'], category: TemplateConfig['category']): Obj[] {
  const out: Obj[] = [];
  if (params.header > 0) out.push({ type: 'HEADER', format: 'TEXT', text: 'Update {{1}}', example: { header_text: ['A-1'] } });
  const vars = Array.from({ length: params.body }, (_, i) => `{{${i + 1}}}`);
  out.push({
    type: 'BODY',
    text: params.body > 0 ? `Hello ${vars.join(', ')}.` : 'Hello.',
    ...(params.body > 0 ? { example: { body_text: [vars.map((_, i) => `v${i + 1}`)] } } : {}),
  });
  if (params.buttons.length > 0) {
    out.push({
      type: 'BUTTONS',
      buttons: params.buttons.map((n, i) =>
        category === 'authentication'
          ? { type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }
          : n > 0
            ? { type: 'URL', text: `Open ${i}`, url: 'https://example.com/o/{{1}}', example: ['https://example.com/o/A-1'] }
            : { type: 'QUICK_REPLY', text: `Reply ${i}` },
      ),
    });
  }
  return out;
}

/** A template as the Message Templates API returns it, restricted to `fields` when given. */
export function templateJson(t: TemplateState, fields?: ReadonlySet<string>): Obj {
  const all: Obj = {
    name: t.name,
    parameter_format: t.parameterFormat,
    components: t.components,
    language: t.language,
    status: t.status,
    category: t.category.toUpperCase(),
    ...(t.previousCategory ? { previous_category: t.previousCategory.toUpperCase() } : {}),
    quality_score: { score: t.quality },
    id: t.id,
  };
  if (!fields) return all;
  const out: Obj = { id: t.id };
  for (const f of fields) if (all[f] !== undefined) out[f] = all[f];
  return out;
}

/** One page of the listing; the cursor is the position, base64-encoded as Graph cursors are opaque. */
export function listTemplates(waba: WabaState, query: Obj, selfUrl: string): Obj {
  const limit = Math.min(Math.max(Number(query.limit ?? 25) || 25, 1), 100);
  const start = typeof query.after === 'string' ? Number(Buffer.from(query.after, 'base64').toString('utf8')) || 0 : 0;
  const fields =
    typeof query.fields === 'string'
      ? new Set(
          query.fields
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean),
        )
      : undefined;
  let items = [...waba.templates.values()];
  if (typeof query.name === 'string') items = items.filter((t) => t.name.includes(query.name as string));
  if (typeof query.status === 'string') items = items.filter((t) => t.status === query.status);
  if (typeof query.category === 'string') items = items.filter((t) => t.category.toUpperCase() === String(query.category).toUpperCase());
  const page = items.slice(start, start + limit);
  const cursor = (n: number) => Buffer.from(String(n)).toString('base64');
  const out: Obj = { data: page.map((t) => templateJson(t, fields)) };
  if (page.length > 0) {
    const paging: Obj = { cursors: { before: cursor(start), after: cursor(start + page.length) } };
    if (start + page.length < items.length) {
      const next = new URL(selfUrl);
      next.searchParams.set('after', cursor(start + page.length));
      next.searchParams.set('limit', String(limit));
      paging.next = next.toString();
    }
    out.paging = paging;
  }
  return out;
}

const fail = (code: number, details: string): GraphError => graphError(code, details);
const MEDIA = new Set(['IMAGE', 'VIDEO', 'DOCUMENT']);
const SUB_TYPE_OF: Record<string, string> = {
  URL: 'url',
  OTP: 'url',
  QUICK_REPLY: 'quick_reply',
  COPY_CODE: 'copy_code',
  FLOW: 'flow',
  CATALOG: 'catalog',
  MPM: 'mpm',
};

function byType(components: unknown[], type: string): Obj[] {
  return components.filter((c): c is Obj => isObj(c) && typeof c.type === 'string' && c.type.toUpperCase() === type);
}
function paramsOf(c: Obj | undefined): unknown[] {
  return c && Array.isArray(c.parameters) ? c.parameters : [];
}
function textOf(p: unknown): string | undefined {
  if (!isObj(p)) return undefined;
  if (p.type === 'text' && typeof p.text === 'string') return p.text;
  if (p.type === 'currency' && isObj(p.currency)) return String(p.currency.fallback_value ?? '');
  if (p.type === 'date_time' && isObj(p.date_time)) return String(p.date_time.fallback_value ?? '');
  return undefined;
}

/** Meta: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces". */
function policyProblem(where: string, params: unknown[]): GraphError | undefined {
  for (const p of params) {
    const t = textOf(p);
    if (t !== undefined && /[\n\t]| {5,}/.test(t))
      return fail(132007, `${where}: Param text cannot have new-line/tab characters or more than 4 consecutive spaces`);
  }
  return undefined;
}

function checkMediaParam(where: string, format: string, p: unknown): GraphError | undefined {
  const want = format.toLowerCase();
  if (!isObj(p) || p.type !== want)
    return fail(132012, `${where}: Format mismatch, expected ${format}, received ${isObj(p) ? String(p.type).toUpperCase() : 'UNKNOWN'}`);
  const m = p[want];
  if (!isObj(m) || (typeof m.id !== 'string' && typeof m.link !== 'string')) return fail(131008, `${where}: ${want} needs an id or a link`);
  if (typeof m.link === 'string' && !/^https?:\/\/\S+$/.test(m.link)) return fail(131009, `${where}: ${want}['link'] is not a valid URL`);
  return undefined;
}

function checkHeader(def: Obj | undefined, sent: Obj | undefined, where: string, format: string): GraphError | undefined {
  const params = paramsOf(sent);
  if (!def)
    return sent ? fail(132000, `${where}: number of localizable_params (${params.length}) does not match the expected number of params (0)`) : undefined;
  const f = String(def.format ?? 'TEXT').toUpperCase();
  if (f === 'TEXT') {
    const names = placeholders(def.text);
    if (params.length !== names.length)
      return fail(132000, `${where}: number of localizable_params (${params.length}) does not match the expected number of params (${names.length})`);
    if (params.length === 0) return undefined;
    const p = params[0];
    if (!isObj(p) || p.type !== 'text' || typeof p.text !== 'string') return fail(132012, `${where}: Format mismatch, expected TEXT`);
    if (format === 'NAMED' && p.parameter_name !== names[0])
      return fail(132000, `${where}: parameter_name ${String(p.parameter_name)} does not match {{${names[0]}}}`);
    const hydrated = String(def.text).replace(PLACEHOLDER, p.text);
    if (hydrated.length > 60) return fail(132005, `${where}: hydrated header text is ${hydrated.length} characters; the limit is 60`);
    return policyProblem(where, params);
  }
  if (params.length !== 1) return fail(132012, `${where}: header component parameter should not be empty`);
  if (MEDIA.has(f)) return checkMediaParam(where, f, params[0]);
  if (f === 'LOCATION') {
    const p = params[0];
    if (!isObj(p) || p.type !== 'location') return fail(132012, `${where}: Format mismatch, expected LOCATION`);
    if (!isObj(p.location) || typeof p.location.latitude !== 'number' || typeof p.location.longitude !== 'number')
      return fail(131008, `${where}: location needs latitude and longitude`);
  }
  return undefined;
}

function checkBody(def: Obj | undefined, sent: Obj | undefined, where: string, format: string): GraphError | undefined {
  const params = paramsOf(sent);
  const names = placeholders(def?.text);
  if (params.length !== names.length)
    return fail(132000, `${where}: number of localizable_params (${params.length}) does not match the expected number of params (${names.length})`);
  for (const p of params) {
    if (!isObj(p) || !['text', 'currency', 'date_time'].includes(String(p.type)))
      return fail(132012, `${where}: Format mismatch, body parameters are text, currency or date_time`);
    if (textOf(p) === undefined) return fail(131008, `${where}: ${String(p.type)} parameter without its value`);
  }
  if (format === 'NAMED') {
    const given = params.map((p) => (isObj(p) ? p.parameter_name : undefined));
    const missing = names.filter((n) => !given.includes(n));
    if (missing.length > 0) return fail(132000, `${where}: missing named parameters ${missing.join(', ')}`);
  }
  let hydrated = String(def?.text ?? '');
  params.forEach((p, i) => {
    hydrated = hydrated.replace(`{{${format === 'NAMED' && isObj(p) ? String(p.parameter_name) : i + 1}}}`, textOf(p) ?? '');
  });
  if (hydrated.length > 1024) return fail(132005, `${where}: hydrated body text is ${hydrated.length} characters; the limit is 1024`);
  return policyProblem(where, params);
}

function buttonNeedsParam(b: Obj, category: string): boolean {
  const t = String(b.type).toUpperCase();
  if (t === 'URL') return placeholders(b.url).length > 0 || category === 'authentication';
  return t === 'OTP' || t === 'COPY_CODE' || t === 'MPM';
}

function checkButtons(defs: Obj[], sent: Obj[], where: string, category: string): GraphError | undefined {
  const seen = new Set<number>();
  for (const s of sent) {
    const index = Number(s.index);
    const def = defs[index];
    if (!def) return fail(131009, `${where}: button at index ${String(s.index)} does not exist in the template`);
    seen.add(index);
    const want = SUB_TYPE_OF[String(def.type).toUpperCase()];
    if (want === undefined || s.sub_type !== want)
      return fail(132012, `${where}: button at index ${index} is ${String(def.type)}, received sub_type ${String(s.sub_type)}`);
    const p = paramsOf(s)[0];
    if (!isObj(p)) return fail(131008, `${where}: button at index ${index} needs a parameter`);
    const ok =
      (want === 'url' && p.type === 'text' && typeof p.text === 'string') ||
      (want === 'quick_reply' && p.type === 'payload' && typeof p.payload === 'string') ||
      (want === 'copy_code' && p.type === 'coupon_code' && typeof p.coupon_code === 'string' && p.coupon_code.length <= 15) ||
      ((want === 'flow' || want === 'catalog') && p.type === 'action') ||
      (want === 'mpm' && p.type === 'action' && isObj(p.action) && Array.isArray(p.action.sections));
    if (!ok) return fail(131009, `${where}: button at index ${index} (${want}) has an invalid parameter`);
  }
  for (let i = 0; i < defs.length; i++) {
    if (!seen.has(i) && buttonNeedsParam(defs[i]!, category))
      return fail(132000, `${where}: button at index ${i} (${String(defs[i]!.type)}) needs a parameter`);
  }
  return undefined;
}

function checkPart(defs: Obj[], sent: unknown[], where: string, format: string, category: string): GraphError | undefined {
  return (
    checkHeader(byType(defs, 'HEADER')[0], byType(sent, 'HEADER')[0], `${where}header`, format) ??
    checkBody(byType(defs, 'BODY')[0], byType(sent, 'BODY')[0], `${where}body`, format) ??
    checkButtons((byType(defs, 'BUTTONS')[0]?.buttons as Obj[] | undefined) ?? [], byType(sent, 'BUTTON'), `${where}buttons`, category)
  );
}

/** Checks `template.components` of a send against the template; undefined when Meta would accept it. */
export function checkTemplateSend(tpl: TemplateState, template: unknown): GraphError | undefined {
  const sent = isObj(template) && Array.isArray(template.components) ? template.components : [];
  const defs = tpl.components;
  const main = checkPart(defs, sent, '', tpl.parameterFormat, tpl.category);
  if (main) return main;
  const lto = byType(defs, 'LIMITED_TIME_OFFER')[0];
  const sentLto = byType(sent, 'LIMITED_TIME_OFFER')[0];
  if (lto && isObj(lto.limited_time_offer) && lto.limited_time_offer.has_expiration === true) {
    const p = paramsOf(sentLto)[0];
    if (!isObj(p) || !isObj(p.limited_time_offer) || typeof p.limited_time_offer.expiration_time_ms !== 'number') {
      return fail(131008, 'limited_time_offer: expiration_time_ms is required for this template');
    }
  } else if (sentLto) return fail(132000, 'limited_time_offer: the template has no limited-time offer');
  const carousel = byType(defs, 'CAROUSEL')[0];
  const sentCarousel = byType(sent, 'CAROUSEL')[0];
  if (carousel) {
    const cards = Array.isArray(carousel.cards) ? (carousel.cards as Obj[]) : [];
    const sentCards = sentCarousel && Array.isArray(sentCarousel.cards) ? (sentCarousel.cards as unknown[]) : [];
    if (sentCards.length !== cards.length) return fail(132012, `carousel: the template has ${cards.length} cards, received ${sentCards.length}`);
    for (let i = 0; i < cards.length; i++) {
      const card = sentCards.find((c) => isObj(c) && Number(c.card_index) === i);
      if (!isObj(card)) return fail(131008, `carousel: card_index ${i} is missing`);
      const r = checkPart(
        Array.isArray(cards[i]!.components) ? (cards[i]!.components as Obj[]) : [],
        Array.isArray(card.components) ? card.components : [],
        `carousel.cards[${i}].`,
        'POSITIONAL',
        tpl.category,
      );
      if (r) return r;
    }
  } else if (sentCarousel) return fail(132000, 'carousel: the template is not a carousel');
  return undefined;
}
