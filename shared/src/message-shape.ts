import type { HeaderValue, TemplateRef } from './contracts/common';
import type { DispatchMessage } from './contracts/dispatch-job';
import type { PartSpec, TemplateSpec } from './templates/spec';

/** What kind of message went out: `template`, `text`, or the free-form kind (image, interactive, …). */
export const MESSAGE_TYPES = ['template', 'text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'reaction'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface MessageShape {
  messageType: MessageType;
  /**
   * The structure used, as sorted distinct tokens: `header:image`, `body:named`, `param:currency`,
   * `button:quick_reply`, `carousel`, `card_header:video`, `limited_time_offer`, `interactive:button`,
   * `media:id`, `media:link`, `preview_url`, `context`. Never a value: no text, no parameter, no link.
   */
  components: string[];
}

const headerToken = (h: HeaderValue) => `header:${h.type}`;

function paramTokens(params: readonly unknown[], out: Set<string>): void {
  for (const p of params) if (typeof p === 'object' && p !== null && 'type' in p) out.add(`param:${String((p as { type: string }).type)}`);
}

function partTokens(prefix: '' | 'card_', part: PartSpec | undefined, out: Set<string>): void {
  if (!part) return;
  if (part.header) out.add(`${prefix}header:${part.header.format.toLowerCase()}`);
  // A catalogue-declared template does not know its button kinds ("ANY"): the request's sub types say them.
  for (const b of part.buttons) if (b.type !== 'ANY') out.add(`${prefix}button:${b.type.toLowerCase()}`);
}

function templateTokens(t: TemplateRef, spec: TemplateSpec | undefined, out: Set<string>): void {
  if (t.header) out.add(headerToken(t.header));
  else if (t.headerParams?.length) out.add('header:text');
  if (t.namedParams && Object.keys(t.namedParams).length > 0) out.add('body:named');
  if (t.bodyParams?.length) out.add('body:positional');
  paramTokens(t.bodyParams ?? [], out);
  paramTokens(Object.values(t.namedParams ?? {}), out);
  for (const b of t.buttonParams ?? []) out.add(`button:${b.subType}`);
  partTokens('', spec, out);
  if (t.cards?.length || spec?.cards?.length) out.add('carousel');
  for (const c of t.cards ?? []) {
    out.add(`card_${headerToken(c.header)}`);
    for (const b of c.buttonParams ?? []) out.add(`card_button:${b.subType}`);
    paramTokens(c.bodyParams ?? [], out);
  }
  for (const c of spec?.cards ?? []) partTokens('card_', c, out);
  if (t.limitedTimeOffer || spec?.limitedTimeOffer) out.add('limited_time_offer');
}

/**
 * The type and structure of a message as analytics records it, from the message sent and, for a
 * template, its spec (header format and button kinds of the real template, parameterised or not).
 */
export function messageShape(message: DispatchMessage, spec?: TemplateSpec): MessageShape {
  const out = new Set<string>();
  if (message.type === 'template') {
    templateTokens(message.template, spec, out);
    return { messageType: 'template', components: [...out].sort() };
  }
  if (message.type === 'text') {
    if (message.text.previewUrl) out.add('preview_url');
    return { messageType: 'text', components: [...out].sort() };
  }
  const c = message.content;
  if (message.replyTo) out.add('context');
  switch (c.type) {
    case 'text':
      if (c.text.previewUrl) out.add('preview_url');
      break;
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const media = (c as unknown as Record<string, { id?: string }>)[c.type]!;
      out.add(media.id !== undefined ? 'media:id' : 'media:link');
      break;
    }
    case 'interactive':
      out.add(`interactive:${c.interactive.type}`);
      if (c.interactive.header) out.add(`header:${c.interactive.header.type}`);
      if (c.interactive.footer) out.add('footer');
      break;
    default:
      break;
  }
  return { messageType: c.type, components: [...out].sort() };
}
