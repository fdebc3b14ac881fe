import type { HeaderValue, MediaRef } from '@wa/shared/contracts/common';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';

/**
 * Uploaded media ids expire 30 days after upload
 * (developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/);
 * a campaign's upload is replaced once it is this old, so no send names an id about to expire.
 */
export const MEDIA_ID_LIFETIME_MS = 30 * 86_400_000;
export const MEDIA_REFRESH_AFTER_MS = 27 * 86_400_000;

export function needsRefresh(uploadedAtMs: number, nowMs: number): boolean {
  return nowMs - uploadedAtMs >= MEDIA_REFRESH_AFTER_MS;
}

type Visit = (ref: MediaRef) => MediaRef;

function header(h: HeaderValue, visit: Visit): HeaderValue {
  if (h.type === 'image') return { ...h, image: visit(h.image) };
  if (h.type === 'video') return { ...h, video: visit(h.video) };
  if (h.type === 'document') return { ...h, document: visit(h.document) };
  return h;
}

/**
 * Applies `visit` to every media reference Meta accepts an uploaded id for: template headers,
 * carousel card headers and free-form media messages. Interactive headers keep their links.
 */
function mapMedia(message: DispatchMessage, visit: Visit): DispatchMessage {
  if (message.type === 'template') {
    const t = message.template;
    return {
      ...message,
      template: {
        ...t,
        ...(t.header ? { header: header(t.header, visit) } : {}),
        ...(t.cards ? { cards: t.cards.map((c) => ({ ...c, header: header(c.header, visit) })) } : {}),
      },
    };
  }
  if (message.type !== 'freeform') return message;
  const c = message.content;
  switch (c.type) {
    case 'image':
      return { ...message, content: { ...c, image: visit(c.image) } };
    case 'video':
      return { ...message, content: { ...c, video: visit(c.video) } };
    case 'audio':
      return { ...message, content: { ...c, audio: visit(c.audio) } };
    case 'document':
      return { ...message, content: { ...c, document: visit(c.document) } };
    case 'sticker':
      return { ...message, content: { ...c, sticker: visit(c.sticker) } };
    default:
      return message;
  }
}

/** The links a message asks to have uploaded once per campaign (`{link, upload: true}`). */
export function linksToUpload(message: DispatchMessage): string[] {
  const links = new Set<string>();
  mapMedia(message, (ref) => {
    if (ref.upload === true && ref.link !== undefined) links.add(ref.link);
    return ref;
  });
  return [...links];
}

/** The message with each uploaded link replaced by its media id; links without an id are sent as links. */
export function withMediaIds(message: DispatchMessage, ids: ReadonlyMap<string, string>): DispatchMessage {
  if (ids.size === 0) return message;
  return mapMedia(message, (ref) => {
    const id = ref.link !== undefined ? ids.get(ref.link) : undefined;
    if (id === undefined) return ref;
    const { link: _link, upload: _upload, ...rest } = ref;
    return { ...rest, id };
  });
}
