import { describe, expect, it } from 'vitest';
import { concatRawRecords, decodeRawRecord, encodeRawRecord, RAW_FORMAT_V2, rawDeliveryBytes, type RawDeliveryInput } from '../src/contracts/webhook-raw';

const id = (c: string) => c.repeat(64);
const delivery = (over: Partial<RawDeliveryInput> = {}): RawDeliveryInput => ({
  deliveryId: id('a'),
  receivedAtMs: Date.parse('2026-12-06T12:00:00.123Z'),
  body: Buffer.from('{"object":"whatsapp_business_account","entry":[]}'),
  contentType: 'application/json',
  signature: 'sha256=' + 'f'.repeat(64),
  secretId: 'current',
  isJson: true,
  userAgent: 'facebookexternalua',
  ...over,
});

describe('wa.webhooks.raw record formats', () => {
  it('format 2 keeps the body bytes as they are and reads back every field, several deliveries per record', () => {
    const a = delivery();
    const b = delivery({
      deliveryId: id('b'),
      body: Buffer.from([0xff, 0x00, 0x7b]),
      isJson: false,
      contentType: null,
      signature: null,
      userAgent: 'Zoë/1.0',
      secretId: 'prévious',
    });
    const value = encodeRawRecord([a, b]);
    expect(value[0]).toBe(RAW_FORMAT_V2);
    expect(value.length).toBe(3 + rawDeliveryBytes(a) + rawDeliveryBytes(b));
    expect(value.includes(a.body)).toBe(true);
    const decoded = decodeRawRecord(value);
    if (!decoded.ok) throw new Error(decoded.detail);
    const stored = ({ receivedAtMs: _, ...d }: RawDeliveryInput) => ({ ...d, receivedAt: '2026-12-06T12:00:00.123Z' });
    expect(decoded.deliveries).toEqual([stored(a), stored(b)]);
    expect([...decoded.deliveries[1]!.body]).toEqual([0xff, 0x00, 0x7b]);
  });

  it('still reads format 1 (JSON, body in base64) for records written before format 2', () => {
    const v1 = {
      v: 1,
      deliveryId: id('c'),
      receivedAt: '2025-07-01T10:00:00.000Z',
      bodyBase64: Buffer.from('{"a":1}').toString('base64'),
      contentType: 'application/json',
      signature: 'sha256=00',
      secretId: 'k1',
      isJson: true,
      userAgent: null,
    };
    const decoded = decodeRawRecord(Buffer.from(JSON.stringify(v1)));
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.deliveries).toHaveLength(1);
    expect(decoded.deliveries[0]!.body.toString()).toBe('{"a":1}');
    expect(decoded.deliveries[0]).toMatchObject({ deliveryId: id('c'), receivedAt: v1.receivedAt, secretId: 'k1', userAgent: null, isJson: true });
    expect(decodeRawRecord(Buffer.from('{"v":1}'))).toMatchObject({ ok: false, reason: 'schema_violation' });
    expect(decodeRawRecord(Buffer.from('not json'))).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeRawRecord(null)).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  it('refuses a format-2 record that is truncated, padded or empty, without throwing', () => {
    const value = encodeRawRecord([delivery()]);
    for (const cut of [1, 3, 20, 80, value.length - 1])
      expect(decodeRawRecord(value.subarray(0, cut))).toMatchObject({ ok: false, reason: 'schema_violation' });
    expect(decodeRawRecord(Buffer.concat([value, Buffer.from([0])]))).toMatchObject({ ok: false, detail: expect.stringContaining('after the last delivery') });
    expect(decodeRawRecord(Buffer.from([RAW_FORMAT_V2, 0, 0]))).toMatchObject({ ok: false, detail: expect.stringContaining('no deliveries') });
    const badId = Buffer.from(value);
    badId.write('z', 3 + 13, 'latin1');
    expect(decodeRawRecord(badId)).toMatchObject({ ok: false, reason: 'schema_violation' });
  });

  it('refuses to write a record it could not read back', () => {
    expect(() => encodeRawRecord([])).toThrow();
    expect(() => encodeRawRecord([delivery({ deliveryId: 'short' })])).toThrow();
  });

  it('concatenates format-2 records into one holding all their deliveries, in order', () => {
    const [a, b, c] = [delivery(), delivery({ deliveryId: id('b') }), delivery({ deliveryId: id('c'), body: Buffer.from('x') })];
    const joined = concatRawRecords([encodeRawRecord([a]), encodeRawRecord([b, c])]);
    expect(joined.equals(encodeRawRecord([a, b, c]))).toBe(true);
    const decoded = decodeRawRecord(joined);
    expect(decoded.ok && decoded.deliveries.map((d) => d.deliveryId)).toEqual([id('a'), id('b'), id('c')]);
    expect(() => concatRawRecords([encodeRawRecord([a]), Buffer.from('{}')])).toThrow();
  });
});
