import { graphError, type GraphError } from './graph-errors';

export type SendType = 'text' | 'template' | 'interactive' | 'image' | 'document' | 'video' | 'audio' | 'sticker' | 'reaction' | 'location' | 'contacts';

export interface TemplateUse {
  name: string;
  language: string;
  header: number;
  body: number;
  /** Parameter count per button index (sparse). */
  buttons: Map<number, number>;
}

export interface ParsedMessage {
  kind: 'message';
  to: string;
  type: SendType;
  template?: TemplateUse;
  bizOpaque?: string;
  /** Reply/interaction context (wamid of the message replied to), when given. */
  contextId?: string;
  /** What the person would reply with (button payload / interactive ids), for simulated replies. */
  replyOptions?: { kind: 'button' | 'interactive'; id: string; title: string }[];
}

export interface ParsedMarkRead {
  kind: 'mark_read';
  messageId: string;
}

export type ValidationResult = { ok: true; value: ParsedMessage | ParsedMarkRead } | { ok: false; error: GraphError };

const MEDIA_TYPES = new Set(['image', 'document', 'video', 'audio', 'sticker']);
const KNOWN_TYPES = new Set(['text', 'template', 'interactive', 'image', 'document', 'video', 'audio', 'sticker', 'reaction', 'location', 'contacts']);
/** Types Meta has but the simulator does not model: answered as unsupported. */
const UNMODELLED_TYPES = new Set<string>([]);
const INTERACTIVE_TYPES = new Set(['button', 'list', 'cta_url', 'product', 'product_list', 'flow', 'location_request_message', 'address_message']);

const fail = (code: number, details: string, message?: string): ValidationResult => ({
  ok: false,
  error: graphError(code, details, message ? { message } : {}),
});
const required = (param: string): ValidationResult => fail(100, `The parameter ${param} is required.`, `(#100) The parameter ${param} is required.`);
const invalid = (param: string, why: string): ValidationResult => fail(131009, `${param}: ${why}`);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function validLink(v: unknown): boolean {
  return typeof v === 'string' && /^https?:\/\/\S+$/.test(v);
}

function validateTemplate(t: unknown): { ok: true; value: TemplateUse } | { ok: false; error: GraphError } {
  if (!isObj(t)) return required('template') as { ok: false; error: GraphError };
  if (!isStr(t.name)) return required("template['name']") as { ok: false; error: GraphError };
  const lang = t.language;
  if (!isObj(lang) || !isStr(lang.code)) return required("template['language']['code']") as { ok: false; error: GraphError };
  const use: TemplateUse = { name: t.name, language: lang.code, header: 0, body: 0, buttons: new Map() };
  if (t.components === undefined) return { ok: true, value: use };
  if (!Array.isArray(t.components)) return invalid("template['components']", 'must be an array') as { ok: false; error: GraphError };
  for (const c of t.components) {
    if (!isObj(c) || !isStr(c.type)) return invalid("template['components']", 'each component needs a type') as { ok: false; error: GraphError };
    const params = c.parameters ?? [];
    if (!Array.isArray(params)) return invalid(`template['components'][${c.type}]['parameters']`, 'must be an array') as { ok: false; error: GraphError };
    for (const p of params) {
      if (!isObj(p) || !isStr(p.type)) {
        return invalid(`template['components'][${c.type}]['parameters']`, 'each parameter needs a type') as { ok: false; error: GraphError };
      }
      if (p.type === 'text' && typeof p.text !== 'string') {
        return fail(131008, `template['components'][${c.type}]['parameters']: text parameter without text`) as { ok: false; error: GraphError };
      }
    }
    const type = c.type.toLowerCase();
    if (type === 'header') use.header += params.length;
    else if (type === 'body') use.body += params.length;
    else if (type === 'button') {
      if (!isStr(c.sub_type)) return required("template['components'][button]['sub_type']") as { ok: false; error: GraphError };
      const index = Number(c.index);
      if (c.index === undefined || !Number.isInteger(index) || index < 0 || index > 9) {
        return invalid("template['components'][button]['index']", 'must be an integer 0–9') as { ok: false; error: GraphError };
      }
      use.buttons.set(index, (use.buttons.get(index) ?? 0) + params.length);
    } else if (type !== 'footer' && type !== 'carousel' && type !== 'limited_time_offer') {
      return invalid("template['components']['type']", `unknown component type ${c.type}`) as { ok: false; error: GraphError };
    }
  }
  return { ok: true, value: use };
}

function validateInteractive(i: unknown): ValidationResult | ParsedMessage['replyOptions'] {
  if (!isObj(i)) return required('interactive');
  if (!isStr(i.type)) return required("interactive['type']");
  if (!INTERACTIVE_TYPES.has(i.type)) return invalid("interactive['type']", `unsupported interactive type ${i.type}`);
  const body = i.body;
  if (i.type !== 'product' && (!isObj(body) || typeof body.text !== 'string' || body.text.length === 0)) return required("interactive['body']['text']");
  if (isObj(body) && typeof body.text === 'string' && body.text.length > 1024) return invalid("interactive['body']['text']", 'longer than 1024 characters');
  const action = i.action;
  if (!isObj(action)) return required("interactive['action']");
  const options: NonNullable<ParsedMessage['replyOptions']> = [];
  if (i.type === 'button') {
    const buttons = action.buttons;
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return invalid("interactive['action']['buttons']", 'between 1 and 3 buttons');
    for (const b of buttons) {
      if (!isObj(b) || b.type !== 'reply' || !isObj(b.reply) || !isStr(b.reply.id) || !isStr(b.reply.title)) {
        return invalid("interactive['action']['buttons']", 'each button is {type:"reply", reply:{id,title}}');
      }
      if (b.reply.title.length > 20) return invalid("interactive['action']['buttons']['reply']['title']", 'longer than 20 characters');
      options.push({ kind: 'interactive', id: b.reply.id, title: b.reply.title });
    }
  } else if (i.type === 'list') {
    if (!isStr(action.button)) return required("interactive['action']['button']");
    const sections = action.sections;
    if (!Array.isArray(sections) || sections.length < 1 || sections.length > 10)
      return invalid("interactive['action']['sections']", 'between 1 and 10 sections');
    for (const s of sections) {
      if (!isObj(s) || !Array.isArray(s.rows) || s.rows.length === 0) return invalid("interactive['action']['sections']", 'each section needs rows');
      for (const r of s.rows) {
        if (!isObj(r) || !isStr(r.id) || !isStr(r.title)) return invalid("interactive['action']['sections']['rows']", 'each row is {id,title}');
        options.push({ kind: 'interactive', id: r.id, title: r.title });
      }
    }
  } else if (i.type === 'cta_url') {
    const p = action.parameters;
    if (!isObj(p) || !isStr(p.display_text) || !validLink(p.url))
      return invalid("interactive['action']['parameters']", 'needs display_text and an http(s) url');
  } else if (i.type === 'flow') {
    // developers.facebook.com/docs/whatsapp/flows/guides/sendingaflow
    const p = action.parameters;
    if (action.name !== 'flow' || !isObj(p)) return required("interactive['action']['parameters']");
    if (!isStr(p.flow_cta) || (!isStr(p.flow_id) && !isStr(p.flow_name)))
      return invalid("interactive['action']['parameters']", 'needs flow_cta and flow_id or flow_name');
  }
  return options;
}

/**
 * Validates a send body the way Graph does: top-level parameters first, then the object of the
 * message type. Codes: 100 for missing/unsupported parameters, 131009 for bad values, 131008 for
 * missing content, 131051 for an unsupported type.
 */
export function validateSendBody(body: unknown): ValidationResult {
  if (!isObj(body)) return fail(100, 'Request body must be a JSON object', '(#100) Invalid parameter');
  if (body.messaging_product !== 'whatsapp') {
    return body.messaging_product === undefined ? required('messaging_product') : invalid('messaging_product', 'must be "whatsapp"');
  }
  if (body.status !== undefined) {
    if (body.status !== 'read') return invalid('status', 'only "read" is supported');
    if (!isStr(body.message_id)) return required('message_id');
    return { ok: true, value: { kind: 'mark_read', messageId: body.message_id } };
  }
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual' && body.recipient_type !== 'group') {
    return invalid('recipient_type', 'must be "individual"');
  }
  if (typeof body.to !== 'string' || body.to.length === 0) return required('to');
  const to = body.to.replace(/[\s+\-()]/g, '');
  if (!/^\d{6,15}$/.test(to)) return invalid('to', 'not a valid phone number');
  const type = body.type === undefined ? 'text' : body.type;
  if (typeof type !== 'string') return invalid('type', 'must be a string');
  if (UNMODELLED_TYPES.has(type) || !KNOWN_TYPES.has(type)) {
    return fail(131051, `Message type ${type} is not supported`, '(#131051) Unsupported message type');
  }
  let bizOpaque: string | undefined;
  if (body.biz_opaque_callback_data !== undefined) {
    if (typeof body.biz_opaque_callback_data !== 'string') return invalid('biz_opaque_callback_data', 'must be a string');
    if (body.biz_opaque_callback_data.length > 512) return invalid('biz_opaque_callback_data', 'longer than 512 characters');
    bizOpaque = body.biz_opaque_callback_data;
  }
  let contextId: string | undefined;
  if (body.context !== undefined) {
    if (!isObj(body.context) || !isStr(body.context.message_id)) return required("context['message_id']");
    contextId = body.context.message_id;
  }
  const msg: ParsedMessage = { kind: 'message', to, type: type as SendType };
  if (bizOpaque !== undefined) msg.bizOpaque = bizOpaque;
  if (contextId !== undefined) msg.contextId = contextId;

  if (type === 'text') {
    const t = body.text;
    if (!isObj(t) || typeof t.body !== 'string' || t.body.length === 0) return required("text['body']");
    if (t.body.length > 4096) return invalid("text['body']", 'longer than 4096 characters');
    if (t.preview_url !== undefined && typeof t.preview_url !== 'boolean') return invalid("text['preview_url']", 'must be a boolean');
  } else if (type === 'template') {
    const r = validateTemplate(body.template);
    if (!r.ok) return r;
    msg.template = r.value;
  } else if (type === 'interactive') {
    const r = validateInteractive(body.interactive);
    if (r !== undefined && !Array.isArray(r)) return r;
    if (r && r.length > 0) msg.replyOptions = r;
  } else if (MEDIA_TYPES.has(type)) {
    const m = body[type];
    if (!isObj(m)) return required(type);
    const hasId = isStr(m.id);
    const hasLink = m.link !== undefined;
    if (!hasId && !hasLink) return fail(131008, `${type} needs an id or a link`, '(#131008) Required parameter is missing');
    if (hasId && hasLink) return invalid(type, 'give either id or link, not both');
    if (hasLink && !validLink(m.link)) return invalid(`${type}['link']`, 'must be an http(s) URL');
    if (m.caption !== undefined && (type === 'audio' || type === 'sticker')) return invalid(`${type}['caption']`, `${type} has no caption`);
    if (m.caption !== undefined && (typeof m.caption !== 'string' || m.caption.length > 1024))
      return invalid(`${type}['caption']`, 'string up to 1024 characters');
  } else if (type === 'location') {
    const l = body.location;
    if (!isObj(l) || typeof l.latitude !== 'number' || typeof l.longitude !== 'number') return required("location['latitude'], location['longitude']");
  } else if (type === 'contacts') {
    const c = body.contacts;
    if (!Array.isArray(c) || c.length === 0) return required('contacts');
    for (const p of c) if (!isObj(p) || !isObj(p.name) || !isStr(p.name.formatted_name)) return required("contacts['name']['formatted_name']");
  } else if (type === 'reaction') {
    const r = body.reaction;
    if (!isObj(r) || !isStr(r.message_id)) return required("reaction['message_id']");
    if (typeof r.emoji !== 'string') return required("reaction['emoji']");
  }
  return { ok: true, value: msg };
}
