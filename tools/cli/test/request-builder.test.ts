import { describe, expect, it } from 'vitest';
import { buildNotificationRequest } from '../src/request-builder';
import { planReplay } from '../src/dlq-replay';
import type { DeadLetterV1 } from '@wa/shared';

const now = new Date('2026-11-25T10:00:00Z');

describe('buildNotificationRequest', () => {
  it('builds a template send to one person from a pool', () => {
    const built = buildNotificationRequest({ to: '+447400123456', sender: 'pool:acme-main', template: 'order_update', params: 'A-1, shipped', key: 'k1', now });
    expect(built).toEqual({
      ok: true,
      request: {
        v: 1,
        idempotencyKey: 'k1',
        sender: { pool: 'acme-main' },
        to: '+447400123456',
        template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
      },
    });
  });
  it('builds a broadcast from an audience file, picking the format from its extension', () => {
    const built = buildNotificationRequest({
      audience: '/data/a.csv',
      sender: '106540352242922',
      template: 'spring_sale',
      category: 'marketing',
      campaign: 'spring',
      now,
    });
    expect(built.ok && built.request.audience).toEqual({ path: '/data/a.csv', format: 'csv' });
    expect(built.ok && built.request.sender).toEqual({ phoneNumberId: '106540352242922' });
  });
  it('sets an expiry relative to now', () => {
    const built = buildNotificationRequest({ to: '1', sender: '1', template: 'otp_code', category: 'authentication', expiresIn: '300', now });
    expect(built.ok && built.request.expiresAt).toBe('2026-11-25T10:05:00.000Z');
    expect(buildNotificationRequest({ to: '1', sender: '1', template: 'x', expiresIn: 'soon', now })).toEqual({
      ok: false,
      error: '--expires-in takes a number of seconds',
    });
  });
  it('reports schema problems by field', () => {
    const built = buildNotificationRequest({ to: '1', sender: '1', template: 'Bad Name', category: 'promo', now });
    expect(built.ok).toBe(false);
    if (!built.ok) {
      expect(built.error).toContain('template.name');
      expect(built.error).toContain('template.category');
    }
  });
});

describe('planReplay', () => {
  const base: DeadLetterV1 = {
    v: 1,
    reason: 'schema_violation',
    detail: 'x',
    service: 'ingest',
    source: { kind: 'kafka', topic: 'wa.notifications.requested', partition: 2, offset: '7' },
    originalKeyBase64: Buffer.from('key').toString('base64'),
    originalValueBase64: Buffer.from('{"v":1}').toString('base64'),
    originalTruncated: false,
    occurredAt: now.toISOString(),
  };
  it('returns a Kafka record to its source topic byte for byte, with its key', () => {
    expect(planReplay(base, { prefix: 't-' })).toEqual({
      replay: true,
      topic: 't-wa.notifications.requested',
      key: Buffer.from('key'),
      value: Buffer.from('{"v":1}'),
    });
    expect(planReplay({ ...base, source: { ...base.source, topic: 't-wa.dispatch.jobs.auth' } as DeadLetterV1['source'] }, { prefix: 't-' })).toMatchObject({
      topic: 't-wa.dispatch.jobs.auth',
    });
  });
  it('sends HTTP requests to the request topic', () => {
    expect(planReplay({ ...base, source: { kind: 'http', route: '/v1/notifications' } }, { prefix: '' })).toMatchObject({
      replay: true,
      topic: 'wa.notifications.requested',
    });
  });
  it('skips what a replay cannot fix, unless forced, and filters by reason', () => {
    expect(planReplay({ ...base, reason: 'opted_out' }, { prefix: '' })).toMatchObject({ replay: false });
    expect(planReplay({ ...base, reason: 'opted_out' }, { prefix: '', force: true })).toMatchObject({ replay: true });
    expect(planReplay({ ...base, originalTruncated: true }, { prefix: '', force: true })).toMatchObject({ replay: false });
    expect(planReplay(base, { prefix: '', reasons: new Set(['invalid_json']) })).toMatchObject({ replay: false });
    expect(planReplay({ ...base, source: { kind: 'expansion', requestKey: 'k', index: 3 } }, { prefix: '' })).toMatchObject({ replay: false });
  });
});
