import { describe, expect, it } from 'vitest';
import { MEDIA_TTL_MS } from '../src/media';
import { PHONE, TOKEN, send, simsClosedAfterEach } from './helpers';

// developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/:
// upload answers {id}; GET /{media-id} answers url, mime_type, sha256, file_size, id; ids expire after 30 days.
const sim = simsClosedAfterEach();

function multipart(fields: Record<string, string>, file?: { bytes: Buffer; type: string }) {
  const boundary = 'sim-boundary-42';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file)
    parts.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="f"\r\ncontent-type: ${file.type}\r\n\r\n`),
      file.bytes,
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${TOKEN}` } };
}

describe('media', () => {
  it('uploads, retrieves, sends by id, and refuses an expired or unknown id with 131053', async () => {
    const { sim: s, clock } = sim({ errorDelivery: 'sync' });
    const jpeg = Buffer.from('\xff\xd8\xff fake jpeg bytes', 'latin1');
    const up = await s.app.inject({
      method: 'POST',
      url: `/v24.0/${PHONE}/media`,
      ...multipart({ messaging_product: 'whatsapp', type: 'image/jpeg' }, { bytes: jpeg, type: 'image/jpeg' }),
    });
    expect(up.statusCode).toBe(200);
    const id = up.json().id as string;
    expect(id).toMatch(/^\d{15,16}$/);
    const info = await s.app.inject({ method: 'GET', url: `/v24.0/${id}`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(info.json()).toMatchObject({ messaging_product: 'whatsapp', mime_type: 'image/jpeg', file_size: jpeg.length, id });
    expect(info.json().sha256).toMatch(/^[0-9a-f]{64}$/);

    s.inbound({ phoneNumberId: PHONE, from: '16505550042', text: 'hi' });
    const image = (mediaId: string) => ({ messaging_product: 'whatsapp', to: '16505550042', type: 'image', image: { id: mediaId } });
    expect((await send(s, image(id))).status).toBe(200);
    expect((await send(s, image('1234567890123456'))).body.error.code).toBe(131053);
    clock.advance(MEDIA_TTL_MS);
    s.inbound({ phoneNumberId: PHONE, from: '16505550042', text: 'still there?' });
    expect((await send(s, image(id))).body.error.code).toBe(131053);
    expect((await s.app.inject({ method: 'GET', url: `/v24.0/${id}`, headers: { authorization: `Bearer ${TOKEN}` } })).json().error).toBeDefined();
  });

  it('refuses an unsupported type or a missing file', async () => {
    const { sim: s } = sim();
    const bad = await s.app.inject({
      method: 'POST',
      url: `/v24.0/${PHONE}/media`,
      ...multipart({ messaging_product: 'whatsapp', type: 'image/gif' }, { bytes: Buffer.from('GIF89a'), type: 'image/gif' }),
    });
    expect(bad.json().error.code).toBe(131053);
    const none = await s.app.inject({ method: 'POST', url: `/v24.0/${PHONE}/media`, ...multipart({ messaging_product: 'whatsapp' }) });
    expect(none.json().error.code).toBe(100);
  });
});
