import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseAccessTokens, type Catalog } from '@wa/shared/catalog';
import { systemClock, type Clock } from '@wa/shared/clock';

/** Uploaded media ids expire after 30 days (developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/). */
const MEDIA_TTL_MS = 30 * 24 * 3600 * 1000;

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.3gp': 'video/3gpp',
  '.ogg': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

/**
 * `media upload FILE --sender ID`: uploads once through `POST /{phone-number-id}/media` and prints the
 * media id to put in every recipient's message (`{"id": …}`) instead of a link, with the time it
 * must be uploaded again by.
 */
export async function uploadMedia(opts: {
  file: string;
  phoneNumberId: string;
  type?: string;
  catalog: Catalog;
  accessTokens: string;
  graph: { baseUrl: string; version: string };
  clock?: Clock;
}) {
  const number = opts.catalog.phoneNumbers.find((n) => n.id === opts.phoneNumberId);
  if (!number) throw new Error(`phone number ${opts.phoneNumberId} is not in the catalogue`);
  const token = parseAccessTokens(opts.accessTokens).get(number.wabaId);
  if (!token) throw new Error(`no access token for business account ${number.wabaId}`);
  const type = opts.type ?? TYPES[extname(opts.file).toLowerCase()];
  if (!type) throw new Error(`cannot tell the media type of ${opts.file}: give --type`);
  const form = new FormData();
  form.set('messaging_product', 'whatsapp');
  form.set('type', type);
  form.set('file', new Blob([await readFile(opts.file)], { type }), opts.file.split('/').pop());
  const res = await fetch(`${opts.graph.baseUrl.replace(/\/+$/, '')}/${opts.graph.version}/${opts.phoneNumberId}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { id?: string; error?: { code?: number; message?: string } };
  if (!res.ok || !body.id) throw new Error(`media upload refused: HTTP ${res.status} ${JSON.stringify(body.error ?? body)}`);
  const now = (opts.clock ?? systemClock).now();
  return { id: body.id, type, uploadedAt: new Date(now).toISOString(), expiresAt: new Date(now + MEDIA_TTL_MS).toISOString() };
}
