import { createHash, randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { errorEnvelope, graphError } from './graph-errors';
import type { SimCore } from './sim-core';

/**
 * Meta's media endpoints (developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/):
 * `POST /{phone-number-id}/media` (multipart: file, type, messaging_product) answers `{id}`; `GET /{media-id}`
 * answers url, mime_type, sha256, file_size; `DELETE /{media-id}`. Uploaded media ids expire after
 * 30 days. Sizes and types: developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types.
 * A send naming an unknown, deleted or expired media id fails with 131053 (media upload error).
 */
export const MEDIA_TTL_MS = 30 * 24 * 3600 * 1000;

const LIMITS: [RegExp, number][] = [
  [/^image\/webp$/, 500 * 1024],
  [/^image\/(jpeg|png)$/, 5 * 1024 * 1024],
  [/^video\/(mp4|3gpp)$/, 16 * 1024 * 1024],
  [/^audio\/(aac|amr|mpeg|mp4|ogg)$/, 16 * 1024 * 1024],
  [/^(text\/plain|application\/(pdf|msword|vnd\.ms-excel|vnd\.ms-powerpoint|vnd\.openxmlformats-officedocument\.[a-z.]+))$/, 100 * 1024 * 1024],
];

interface Stored {
  phoneId: string;
  mime: string;
  size: number;
  sha256: string;
  uploadedAt: number;
}

export class MediaStore {
  private readonly items = new Map<string, Stored>();

  upload(phoneId: string, mime: string, bytes: Buffer, now: number): { ok: true; id: string } | { ok: false; details: string } {
    const limit = LIMITS.find(([re]) => re.test(mime))?.[1];
    if (limit === undefined)
      return {
        ok: false,
        details: `Param file must be a file with one of the following types: image/jpeg, image/png, image/webp, video/mp4, video/3gpp, audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg, text/plain, application/pdf, … Received file of type '${mime}'.`,
      };
    if (bytes.length === 0 || bytes.length > limit)
      return { ok: false, details: `file size ${bytes.length} bytes is outside the ${limit}-byte limit for ${mime}` };
    let id: string;
    do
      id = String(1e15 + randomInt(0, 2 ** 47)); // randomInt spans at most 2^48
    while (this.items.has(id));
    this.items.set(id, { phoneId, mime, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), uploadedAt: now });
    return { ok: true, id };
  }

  live(id: string, now: number): Stored | undefined {
    const m = this.items.get(id);
    if (m && now - m.uploadedAt >= MEDIA_TTL_MS) {
      this.items.delete(id);
      return undefined;
    }
    return m;
  }

  /** Media uploaded and not deleted (expired ones included until looked up). */
  get size(): number {
    return this.items.size;
  }

  delete(id: string): boolean {
    return this.items.delete(id);
  }

  /** Media ids a send names (message media objects, template headers, carousel cards) that are not usable. */
  missingIn(body: unknown, now: number): string[] {
    const missing: string[] = [];
    const walk = (v: unknown, key: string) => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (typeof v === 'object' && v !== null) {
        const o = v as Record<string, unknown>;
        if (['image', 'video', 'audio', 'document', 'sticker'].includes(key) && typeof o.id === 'string' && !this.live(o.id, now)) missing.push(o.id);
        for (const [k, x] of Object.entries(o)) walk(x, k);
      }
    };
    walk(body, '');
    return missing;
  }
}

/** The multipart/form-data fields of an upload (RFC 7578), files as bytes. */
export function parseMultipart(body: Buffer, contentType: string): Map<string, { value: Buffer; contentType?: string }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const fields = new Map<string, { value: Buffer; contentType?: string }>();
  if (!boundary) return fields;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length + 2; // skip CRLF
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2); // drop the CRLF before the delimiter
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd > 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
      if (name !== undefined) fields.set(name, { value: part.subarray(headerEnd + 4), ...(type ? { contentType: type } : {}) });
    }
    at = next;
  }
  return fields;
}

function wabaOf(core: SimCore, authorization: string | undefined) {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
  return token ? core.world.tokenToWaba.get(token) : undefined;
}

const AUTH = errorEnvelope(graphError(190, 'Invalid OAuth access token', { message: 'Invalid OAuth access token - Cannot parse access token' }));

/** `GET /{media-id}` when the id is a media id (the same path shape serves phone numbers). */
export function mediaInfo(core: SimCore, id: string, authorization: string | undefined, selfBase: string): { status: number; body: unknown } | undefined {
  const m = core.media.live(id, core.clock.now());
  if (!m) return undefined;
  const waba = wabaOf(core, authorization);
  if (!waba) return { status: 401, body: AUTH };
  if (core.world.phoneById.get(m.phoneId)?.waba !== waba)
    return { status: 400, body: errorEnvelope(graphError(100, 'Object does not exist', { subcode: 33 })) };
  return {
    status: 200,
    body: { messaging_product: 'whatsapp', url: `${selfBase}/_sim/media/${id}`, mime_type: m.mime, sha256: m.sha256, file_size: m.size, id },
  };
}

export function registerMediaRoutes(app: FastifyInstance, core: SimCore): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 101 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.post<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId/media', async (req, reply) => {
    const waba = wabaOf(core, req.headers.authorization);
    if (!waba) return reply.code(401).send(AUTH);
    const phone = core.world.phoneById.get(req.params.phoneNumberId);
    if (!phone || phone.waba !== waba) return reply.code(400).send(errorEnvelope(graphError(100, 'Object does not exist', { subcode: 33 })));
    const fields = Buffer.isBuffer(req.body) ? parseMultipart(req.body, String(req.headers['content-type'] ?? '')) : new Map();
    if (fields.get('messaging_product')?.value.toString() !== 'whatsapp')
      return reply
        .code(400)
        .send(
          errorEnvelope(graphError(100, 'The parameter messaging_product is required.', { message: '(#100) The parameter messaging_product is required.' })),
        );
    const file = fields.get('file');
    if (!file)
      return reply.code(400).send(errorEnvelope(graphError(100, 'The parameter file is required.', { message: '(#100) The parameter file is required.' })));
    const mime = fields.get('type')?.value.toString() ?? file.contentType ?? '';
    const r = core.media.upload(phone.id, mime, file.value, core.clock.now());
    if (!r.ok) return reply.code(400).send(errorEnvelope(graphError(131053, r.details)));
    return { id: r.id };
  });

  app.delete<{ Params: { version: string; mediaId: string } }>('/:version/:mediaId', async (req, reply) => {
    const waba = wabaOf(core, req.headers.authorization);
    if (!waba) return reply.code(401).send(AUTH);
    const m = core.media.live(req.params.mediaId, core.clock.now());
    if (!m || core.world.phoneById.get(m.phoneId)?.waba !== waba)
      return reply.code(400).send(errorEnvelope(graphError(100, 'Object does not exist', { subcode: 33 })));
    core.media.delete(req.params.mediaId);
    return { success: true };
  });
}
