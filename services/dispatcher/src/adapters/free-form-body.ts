import type { FreeFormContent, InteractiveContent } from '@wa/shared/contracts/free-form';
import { media } from './template-components';

/**
 * Meta's message object for free-form content (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages:
 * text, media objects, location, contacts, interactive button/list/cta_url/flow, reaction).
 */
export function freeFormFields(c: FreeFormContent): Record<string, unknown> {
  switch (c.type) {
    case 'text':
      return { type: 'text', text: { body: c.text.body, preview_url: c.text.previewUrl ?? false } };
    case 'image':
      return { type: 'image', image: media(c.image, 'image', true) };
    case 'video':
      return { type: 'video', video: media(c.video, 'video', true) };
    case 'audio':
      return { type: 'audio', audio: media(c.audio, 'audio', false) };
    case 'document':
      return { type: 'document', document: media(c.document, 'document', true) };
    case 'sticker':
      return { type: 'sticker', sticker: media(c.sticker, 'sticker', false) };
    case 'location':
      return { type: 'location', location: { ...c.location } };
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: c.reaction.messageId, emoji: c.reaction.emoji } };
    case 'contacts':
      return {
        type: 'contacts',
        contacts: c.contacts.map((p) => ({
          name: {
            formatted_name: p.name.formattedName,
            ...(p.name.firstName ? { first_name: p.name.firstName } : {}),
            ...(p.name.lastName ? { last_name: p.name.lastName } : {}),
          },
          ...(p.phones ? { phones: p.phones.map((x) => ({ phone: x.phone, ...(x.type ? { type: x.type } : {}), ...(x.waId ? { wa_id: x.waId } : {}) })) } : {}),
          ...(p.emails ? { emails: p.emails.map((x) => ({ email: x.email, ...(x.type ? { type: x.type } : {}) })) } : {}),
          ...(p.org ? { org: { ...p.org } } : {}),
          ...(p.urls ? { urls: p.urls.map((x) => ({ url: x.url, ...(x.type ? { type: x.type } : {}) })) } : {}),
        })),
      };
    case 'interactive':
      return { type: 'interactive', interactive: interactive(c.interactive) };
  }
}

function interactive(i: InteractiveContent): Record<string, unknown> {
  const out: Record<string, unknown> = { type: i.type };
  if (i.header) {
    const h = i.header;
    out.header =
      h.type === 'text'
        ? { type: 'text', text: h.text }
        : h.type === 'image'
          ? { type: 'image', image: media(h.image, 'image', false) }
          : h.type === 'video'
            ? { type: 'video', video: media(h.video, 'video', false) }
            : { type: 'document', document: media(h.document, 'document', false) };
  }
  out.body = { text: i.body };
  if (i.footer) out.footer = { text: i.footer };
  switch (i.type) {
    case 'button':
      out.action = { buttons: i.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) };
      break;
    case 'list':
      out.action = { button: i.button, sections: i.sections.map((s) => ({ ...(s.title ? { title: s.title } : {}), rows: s.rows.map((r) => ({ ...r })) })) };
      break;
    case 'cta_url':
      out.action = { name: 'cta_url', parameters: { display_text: i.displayText, url: i.url } };
      break;
    case 'flow': {
      const parameters: Record<string, unknown> = { flow_message_version: '3', flow_id: i.flowId, flow_cta: i.flowCta, flow_action: i.flowAction };
      if (i.flowToken !== undefined) parameters.flow_token = i.flowToken;
      if (i.screen !== undefined) parameters.flow_action_payload = { screen: i.screen, ...(i.data ? { data: i.data } : {}) };
      out.action = { name: 'flow', parameters };
      break;
    }
  }
  return out;
}
