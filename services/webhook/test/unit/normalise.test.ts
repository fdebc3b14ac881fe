import { describe, expect, it } from 'vitest';
import { accountEventId, normaliseWebhook } from '../../src/domain/normalise';
import * as f from '../fixtures';

const ctx = { deliveryId: 'd'.repeat(64), receivedAt: '2025-07-01T10:00:00.000Z' };
const T = 1_751_364_000; // 2025-07-01T10:00:00Z

describe('normaliseWebhook: statuses', () => {
  it('maps a CBP delivered status with conversation and pricing', () => {
    const w = f.wamid();
    const out = normaliseWebhook(
      f.statusPayload([f.status({ wamid: w, status: 'delivered', timestamp: T, pricing: 'CBP', category: 'marketing', jobId: 'job-1' })]),
      ctx,
    );
    expect(out.invalid).toEqual([]);
    expect(out.status).toEqual([
      {
        v: 1,
        eventId: `${w}:delivered:${T}`,
        wamid: w,
        status: 'delivered',
        statusAt: '2025-07-01T10:00:00.000Z',
        recipientId: '16505551234',
        phoneNumberId: f.PHONE_NUMBER_ID,
        wabaId: f.WABA_ID,
        jobId: 'job-1',
        conversation: { id: `conv-${w.slice(-8)}`, originType: 'marketing', expiresAt: '2025-07-02T10:00:00.000Z' },
        pricing: { billable: true, pricingModel: 'CBP', category: 'marketing' },
        receivedAt: ctx.receivedAt,
        deliveryId: ctx.deliveryId,
      },
    ]);
    expect(out.phoneNumbers).toEqual([{ phoneNumberId: f.PHONE_NUMBER_ID, displayPhoneNumber: f.DISPLAY_NUMBER }]);
  });

  it('maps a PMP status with pricing type and no conversation', () => {
    const out = normaliseWebhook(f.statusPayload([f.status({ wamid: f.wamid(), status: 'read', timestamp: T, pricing: 'PMP', category: 'utility' })]), ctx);
    expect(out.status[0]?.pricing).toEqual({ billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' });
    expect(out.status[0]?.conversation).toBeUndefined();
  });

  it('maps a failed status with its errors', () => {
    const out = normaliseWebhook(f.statusPayload([f.status({ wamid: f.wamid(), status: 'failed', timestamp: T, errorCode: 131026 })]), ctx);
    expect(out.status[0]?.errors).toEqual([
      { code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'recipient not on WhatsApp' },
    ]);
  });

  it('splits a batched payload into one event per status, in order', () => {
    const w = f.wamid();
    const out = normaliseWebhook(
      f.statusPayload([
        f.status({ wamid: w, status: 'read', timestamp: T + 5 }),
        f.status({ wamid: w, status: 'sent', timestamp: T }),
        f.status({ wamid: w, status: 'delivered', timestamp: T + 2 }),
      ]),
      ctx,
    );
    expect(out.status.map((s) => s.eventId)).toEqual([`${w}:read:${T + 5}`, `${w}:sent:${T}`, `${w}:delivered:${T + 2}`]);
  });

  it('reports a status it cannot map (unknown status, no id) and keeps the valid ones', () => {
    const good = f.status({ wamid: f.wamid(), status: 'sent', timestamp: T });
    const out = normaliseWebhook(f.statusPayload([good, { status: 'teleported', timestamp: String(T), recipient_id: '1' }]), ctx);
    expect(out.status).toHaveLength(1);
    expect(out.invalid).toHaveLength(1);
    expect(out.invalid[0]?.kind).toBe('status');
    expect(out.invalid[0]?.detail).toMatch(/wamid|status/);
  });
});

describe('normaliseWebhook: inbound', () => {
  it('maps a text message', () => {
    const w = f.wamid();
    const out = normaliseWebhook(f.inboundText({ wamid: w, from: '16505551234', text: 'STOP', timestamp: T }), ctx);
    expect(out.inbound).toEqual([
      {
        v: 1,
        eventId: w,
        wamid: w,
        from: '16505551234',
        phoneNumberId: f.PHONE_NUMBER_ID,
        wabaId: f.WABA_ID,
        type: 'text',
        text: 'STOP',
        sentAt: '2025-07-01T10:00:00.000Z',
        receivedAt: ctx.receivedAt,
        deliveryId: ctx.deliveryId,
      },
    ]);
  });

  it('maps a quick-reply button with payload and context', () => {
    const out = normaliseWebhook(
      f.inboundButton({ wamid: f.wamid(), from: '16505551234', timestamp: T, text: 'Stop promotions', payload: 'STOP', contextWamid: 'wamid.ctx' }),
      ctx,
    );
    expect(out.inbound[0]).toMatchObject({ type: 'button', text: 'Stop promotions', buttonPayload: 'STOP', contextWamid: 'wamid.ctx' });
  });

  it('maps interactive button and list replies', () => {
    const b = normaliseWebhook(f.inboundInteractive({ wamid: f.wamid(), from: '16505551234', timestamp: T, replyId: 'yes-1', title: 'Yes' }), ctx);
    expect(b.inbound[0]).toMatchObject({ type: 'interactive', text: 'Yes', interactiveReplyId: 'yes-1' });
    const l = normaliseWebhook(
      f.inboundInteractive({ wamid: f.wamid(), from: '16505551234', timestamp: T, replyId: 'row-2', title: 'Tuesday', list: true }),
      ctx,
    );
    expect(l.inbound[0]).toMatchObject({ type: 'interactive', text: 'Tuesday', interactiveReplyId: 'row-2' });
  });
});

describe('normaliseWebhook: account events', () => {
  it('maps a template status update', () => {
    const out = normaliseWebhook(f.templateStatusUpdate({ name: 'order_update', language: 'en_US', event: 'PAUSED', reason: 'LOW_QUALITY', time: T }), ctx);
    expect(out.account).toHaveLength(1);
    expect(out.account[0]).toMatchObject({
      kind: 'template_status',
      field: 'message_template_status_update',
      wabaId: f.WABA_ID,
      event: 'PAUSED',
      occurredAt: '2025-07-01T10:00:00.000Z',
      template: { name: 'order_update', language: 'en_US', id: '594425479261596', reason: 'LOW_QUALITY' },
    });
  });

  it('maps a quality update with a tier name to a messaging limit', () => {
    const out = normaliseWebhook(f.qualityUpdate({ event: 'DOWNGRADE', currentLimit: 'TIER_2K', time: T }), ctx);
    expect(out.account[0]).toMatchObject({ kind: 'phone_quality', event: 'DOWNGRADE', displayPhoneNumber: f.DISPLAY_NUMBER, messagingLimit: 2_000 });
  });

  it('maps a capability update (numeric and unlimited limits)', () => {
    const n = normaliseWebhook(f.capabilityUpdate({ limit: 100_000, time: T }), ctx);
    expect(n.account[0]).toMatchObject({ kind: 'business_capability', messagingLimit: 100_000 });
    const u = normaliseWebhook(f.capabilityUpdate({ limit: 'TIER_UNLIMITED', time: T }), ctx);
    expect(u.account[0]).toMatchObject({ kind: 'business_capability', messagingLimit: null });
  });

  it('maps an account_update pricing tier event and keeps the value verbatim', () => {
    const payload = f.pricingTierUpdate({ time: T, tier: '25001:100000' });
    const out = normaliseWebhook(payload, ctx);
    expect(out.account[0]).toMatchObject({ kind: 'account_update', event: 'VOLUME_BASED_PRICING_TIER_UPDATE' });
    expect((out.account[0]?.value as { volume_tier_info: { tier: string } }).volume_tier_info.tier).toBe('25001:100000');
  });

  it('gives the same event id to the same change whatever the key order', () => {
    expect(accountEventId('f', '1', '2', { a: 1, b: { c: 2, d: 3 } })).toBe(accountEventId('f', '1', '2', { b: { d: 3, c: 2 }, a: 1 }));
    expect(accountEventId('f', '1', '2', { a: 1 })).not.toBe(accountEventId('f', '1', '3', { a: 1 }));
  });
});

describe('normaliseWebhook: envelopes', () => {
  it('rejects something that is not a WhatsApp webhook', () => {
    expect(normaliseWebhook({ object: 'page', entry: [] }, ctx).invalid[0]?.kind).toBe('envelope');
    expect(normaliseWebhook([1, 2], ctx).invalid[0]?.kind).toBe('envelope');
  });
});
