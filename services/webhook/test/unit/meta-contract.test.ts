import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from '../../src/domain/keywords';
import { normaliseWebhook } from '../../src/domain/normalise';
import { decodeRawRecord, encodeRawRecord } from '@wa/shared/contracts/webhook-raw';
import { buildRawDelivery } from '../../src/domain/raw-record';
import { signBody, verifySignature } from '../../src/domain/signature';
import { accountChanges, inboundChanges, type StateChange } from '../../src/domain/state-changes';

/**
 * The Meta contract corpus: one payload per kind Meta documents (shared/test/fixtures/meta, each
 * naming the page it follows), fed through what the receiver and the normaliser do — signature
 * check over the exact bytes, the raw record, its decoding, normalisation, and the state changes the
 * dispatcher learns from (opt-outs, windows, limits, throughput, quality, templates).
 */
export const META_FIXTURES_DIR = resolve(import.meta.dirname, '../../../..', 'shared', 'test/fixtures/meta');

interface Fixture {
  source: string[];
  description: string;
  payload: Record<string, unknown>;
  expect: {
    status?: Record<string, unknown>[];
    inbound?: Record<string, unknown>[];
    account?: Record<string, unknown>[];
    changes?: Record<string, unknown>[];
    noMessagingLimit?: boolean;
  };
}

const SECRET = 'contract-app-secret';
const keywords = createKeywordMatcher({ optOut: ['STOP'], optIn: ['START'] });
const files = readdirSync(META_FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** Meta escapes non-ASCII as \uXXXX in the bytes it signs. */
const metaBytes = (payload: unknown) =>
  Buffer.from(JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

describe('Meta contract corpus', () => {
  it('covers every payload kind the product relies on', () => {
    const names = files.map((f) => f.replace(/\.json$/, ''));
    for (const kind of [
      'status-sent',
      'status-delivered',
      'status-read',
      'status-failed',
      'inbound-text',
      'inbound-button',
      'inbound-interactive',
      'inbound-image',
      'inbound-reaction',
      'inbound-location',
      'inbound-contacts',
      'inbound-username-only',
      'phone-number-quality-update-throughput-upgrade',
      'account-update',
      'message-template-status-update',
      'template-category-update',
      'message-template-quality-update',
      'business-capability-update',
      'user-preferences',
    ]) {
      expect(
        names.some((n) => n.startsWith(kind)),
        kind,
      ).toBe(true);
    }
  });

  it.each(files)('%s', (file) => {
    const fixture = JSON.parse(readFileSync(join(META_FIXTURES_DIR, file), 'utf8')) as Fixture;
    expect(fixture.source.length).toBeGreaterThan(0);
    for (const url of fixture.source) expect(url).toMatch(/^https:\/\/developers\.facebook\.com\/documentation\/business-messaging\/whatsapp\//);

    const body = metaBytes(fixture.payload);
    const header = signBody(body, SECRET);
    expect(verifySignature(body, header, [{ id: 'current', secret: SECRET }])).toEqual({ ok: true, secretId: 'current' });
    const record = encodeRawRecord([
      buildRawDelivery({
        body,
        contentType: 'application/json',
        signature: header,
        userAgent: 'facebookexternalua',
        secretId: 'current',
        receivedAtMs: Date.parse('2026-12-06T12:00:00Z'),
      }),
    ]);
    const stored = decodeRawRecord(record);
    if (!stored.ok) throw new Error(stored.detail);
    const raw = stored.deliveries[0]!;
    expect(raw.body.equals(body)).toBe(true);
    const decoded = JSON.parse(raw.body.toString('utf8')) as unknown;

    const out = normaliseWebhook(decoded, { deliveryId: raw.deliveryId, receivedAt: raw.receivedAt });
    expect(out.invalid).toEqual([]);
    const e = fixture.expect;
    if (e.status) expect(out.status).toMatchObject(e.status);
    else expect(out.status).toEqual([]);
    if (e.inbound) expect(out.inbound).toMatchObject(e.inbound);
    else expect(out.inbound).toEqual([]);
    if (e.account) expect(out.account).toMatchObject(e.account);
    for (const event of out.account) if (e.noMessagingLimit) expect(event.messagingLimit).toBeUndefined();

    const changes: StateChange[] = [...out.inbound.flatMap((i) => inboundChanges(i, keywords)), ...out.account.flatMap((a) => accountChanges(a))];
    if (e.changes) expect(changes).toMatchObject(e.changes);
  });
});
