import { describe, expect, it } from 'vitest';
import { ALL_TOPICS, decodeJson, encodeJson, notificationRequestV1, topics } from '../src';
import { TOPIC_EXAMPLES } from './fixtures/topic-examples';

describe('topic contracts', () => {
  it('has an example for every topic', () => {
    expect(new Set(TOPIC_EXAMPLES.map((e) => e.def.name))).toEqual(new Set(ALL_TOPICS.map((t) => t.name)));
  });

  it.each(TOPIC_EXAMPLES.map((e) => [e.def.name, e] as const))('%s accepts its valid example and round-trips', (_name, { def, value }) => {
    const decoded = decodeJson(def.schema, encodeJson(def.schema, value as never));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(def.key(decoded.value as never)).not.toBe(undefined);
  });

  it.each(TOPIC_EXAMPLES.map((e) => [e.def.name, e] as const))('%s rejects a missing version, an unknown field and a wrong type', (_name, { def, value }) => {
    const { v: _v, ...noVersion } = value as Record<string, unknown>;
    const cases: unknown[] = [noVersion, { ...(value as object), surprise: 1 }, { ...(value as object), v: 'one' }, [], 'text'];
    for (const bad of cases) {
      const decoded = decodeJson(def.schema, Buffer.from(JSON.stringify(bad)));
      expect(decoded.ok, JSON.stringify(bad).slice(0, 80)).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toBe('schema_violation');
    }
  });

  it('keys dispatch jobs by recipient so one person is handled by one partition', () => {
    const example = TOPIC_EXAMPLES.find((e) => e.def === topics.dispatchJobs.utility)!;
    expect(topics.dispatchJobs.utility.key(example.value as never)).toBe('447911123456');
  });
});

describe('notification request refinements', () => {
  const base = { v: 1, idempotencyKey: 'k', sender: { phoneNumberId: '1' } };
  const template = { name: 'order_update', language: 'en_US', category: 'utility' };

  function errorsOf(value: unknown): string {
    const decoded = decodeJson(notificationRequestV1, Buffer.from(JSON.stringify(value)));
    return decoded.ok ? '' : decoded.detail;
  }

  it('requires exactly one target and one content, naming the field', () => {
    expect(errorsOf({ ...base, template })).toMatch(/^to: exactly one of `to`, `recipients` or `audience`/);
    expect(errorsOf({ ...base, to: '1', recipients: ['2'], template })).toMatch(/exactly one of `to`/);
    expect(errorsOf({ ...base, to: '1' })).toMatch(/template: exactly one of `template`, `text` or `content`/);
    expect(errorsOf({ ...base, to: '1', template, text: { body: 'x' } })).toMatch(/template: exactly one/);
  });

  it('rejects an expiry before not-before and coalescing of authentication', () => {
    expect(errorsOf({ ...base, to: '1', template, notBefore: '2026-01-02T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' })).toMatch(/^expiresAt:/);
    expect(errorsOf({ ...base, to: '1', template: { ...template, category: 'authentication' }, coalesce: { key: 'x' } })).toMatch(/^coalesce:/);
  });

  it('spells out every field error at once', () => {
    const detail = errorsOf({ v: 1, idempotencyKey: '', sender: {}, to: '1', template: { name: 'Bad Name', language: 'english', category: 'promo' } });
    expect(detail).toContain('idempotencyKey:');
    expect(detail).toContain('template.name:');
    expect(detail).toContain('template.language:');
    expect(detail).toContain('template.category:');
  });

  it('reports non-JSON and oversized records with their own reasons', () => {
    expect(decodeJson(notificationRequestV1, Buffer.from([0xff, 0x00, 0x13]))).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeJson(notificationRequestV1, null)).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeJson(notificationRequestV1, Buffer.alloc(2048, 0x20), 1024)).toMatchObject({ ok: false, reason: 'record_too_large' });
  });
});
