import { describe, expect, it } from 'vitest';
import { deadLetterV1 } from '../src/contracts/dead-letter';
import { buildDeadLetter, DLQ_ORIGINAL_MAX_BYTES } from '../src/dead-letter';

const base = {
  reason: 'invalid_json' as const,
  detail: 'Unexpected token',
  service: 'test',
  source: { kind: 'kafka' as const, topic: 't', partition: 3, offset: '42' },
  occurredAtMs: Date.parse('2026-01-02T03:04:05.678Z'),
};

describe('buildDeadLetter', () => {
  it('keeps the original key and value byte for byte and passes the contract', () => {
    const value = Buffer.from([0x00, 0xff, 0x7b, 0x22]);
    const d = buildDeadLetter({ ...base, key: Buffer.from('k1'), value });
    expect(deadLetterV1.parse(d)).toEqual(d);
    expect(Buffer.from(d.originalValueBase64, 'base64')).toEqual(value);
    expect(Buffer.from(d.originalKeyBase64!, 'base64').toString()).toBe('k1');
    expect(d.originalTruncated).toBe(false);
    expect(d.occurredAt).toBe('2026-01-02T03:04:05.678Z');
    expect(d).not.toHaveProperty('jobId');
  });

  it('takes strings as UTF-8 and a null key or value as absent', () => {
    const d = buildDeadLetter({ ...base, key: null, value: '{"to":"é"}' });
    expect(d.originalKeyBase64).toBeNull();
    expect(Buffer.from(d.originalValueBase64, 'base64').toString('utf8')).toBe('{"to":"é"}');
    expect(buildDeadLetter({ ...base, key: null, value: null }).originalValueBase64).toBe('');
  });

  it('cuts the value at the cap and flags it; a value exactly at the cap is whole', () => {
    const atCap = buildDeadLetter({ ...base, key: null, value: Buffer.alloc(100, 1), maxOriginalBytes: 100 });
    expect(atCap.originalTruncated).toBe(false);
    const over = buildDeadLetter({ ...base, key: null, value: Buffer.alloc(101, 1), maxOriginalBytes: 100 });
    expect(over.originalTruncated).toBe(true);
    expect(Buffer.from(over.originalValueBase64, 'base64')).toEqual(Buffer.alloc(100, 1));
  });

  it('defaults the cap so the encoded record stays under the broker 1 MB limit', () => {
    const d = buildDeadLetter({ ...base, detail: 'x'.repeat(20_000), key: null, value: Buffer.alloc(1_048_576, 7) });
    expect(d.originalTruncated).toBe(true);
    expect(Buffer.from(d.originalValueBase64, 'base64').length).toBe(DLQ_ORIGINAL_MAX_BYTES);
    expect(d.detail.length).toBe(8_000);
    expect(Buffer.byteLength(JSON.stringify(d))).toBeLessThan(1_000_000);
    expect(deadLetterV1.safeParse(d).success).toBe(true);
  });

  it('carries the optional ids only when given', () => {
    const d = buildDeadLetter({ ...base, key: null, value: 'v', jobId: 'j', requestKey: 'r', campaignId: 'c', errorCode: 131_026 });
    expect(d).toMatchObject({ jobId: 'j', requestKey: 'r', campaignId: 'c', errorCode: 131_026 });
  });
});
