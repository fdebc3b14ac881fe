import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PHONE, WABA, advance, makeSim, send, startReceiver, statusesOf, templateBody, textBody, waitFor } from './helpers';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});
async function setup(over: Parameters<typeof makeSim>[0] = {}, respond?: (n: number) => number) {
  const rx = await startReceiver(respond);
  const { sim, clock } = makeSim(over, rx.url);
  cleanups.push(() => sim.close(), rx.close);
  return { rx, sim, clock };
}
const SECRET = 'sim-app-secret';

function verify(raw: Buffer, header: string | string[] | undefined, secret = SECRET): boolean {
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(raw).digest('hex'));
  const got = Buffer.from(String(header));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('status webhooks', () => {
  it('sent → delivered → read, signed over the exact bytes, envelope as Meta shapes it, callback data echoed', async () => {
    const { rx, sim, clock } = await setup();
    const r = await send(sim, templateBody('16505556000', 'order_update', { biz_opaque_callback_data: 'job-123' }));
    await advance(sim, clock, 200);
    expect(rx.received.length).toBe(3);
    for (const p of rx.received) {
      expect(verify(p.raw, p.headers['x-hub-signature-256'])).toBe(true);
      expect(verify(p.raw, p.headers['x-hub-signature-256'], 'some-other-secret')).toBe(false);
      expect(p.headers['content-type']).toBe('application/json');
      expect(p.json.object).toBe('whatsapp_business_account');
      expect(p.json.entry[0]!.id).toBe(WABA);
      expect(p.json.entry[0]!.changes[0]!.field).toBe('messages');
      expect(p.json.entry[0]!.changes[0]!.value.metadata).toEqual({ display_phone_number: '15550783881', phone_number_id: PHONE });
    }
    const st = statusesOf(rx.received);
    expect(st.map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    for (const s of st) {
      expect(s.id).toBe(r.body.messages[0].id);
      expect(s.recipient_id).toBe('16505556000');
      expect(s.biz_opaque_callback_data).toBe('job-123');
      expect(s.timestamp).toMatch(/^\d{10}$/);
    }
    const view = await sim.app.inject({ url: `/_sim/messages/${encodeURIComponent(r.body.messages[0].id)}` });
    expect(view.json()).toMatchObject({ statusesEmitted: ['sent', 'delivered', 'read'], bizOpaqueCallbackData: 'job-123', category: 'utility' });
  });

  it('escapes non-ASCII as \\uXXXX and / as \\/ like Meta, so only the raw bytes verify', async () => {
    const { rx, sim, clock } = await setup();
    await send(sim, templateBody('16505556001', 'order_update', { biz_opaque_callback_data: 'Olá 👋 a/b' }));
    await advance(sim, clock, 200);
    const raw = rx.received[0]!.raw;
    const text = raw.toString('latin1');
    expect(text).toContain('Ol\\u00e1 \\ud83d\\udc4b a\\/b');
    expect([...raw].every((b) => b < 0x80)).toBe(true);
    expect(statusesOf(rx.received)[0]!.biz_opaque_callback_data).toBe('Olá 👋 a/b');
    const reserialised = Buffer.from(JSON.stringify(rx.received[0]!.json));
    expect(verify(raw, rx.received[0]!.headers['x-hub-signature-256'])).toBe(true);
    expect(verify(reserialised, rx.received[0]!.headers['x-hub-signature-256'])).toBe(false);
  });

  it('a refused-after-acceptance message gets one failed status with an errors array', async () => {
    const { rx, sim, clock } = await setup({ population: { overrides: { '16505556002': 'not_on_whatsapp' } } });
    await send(sim, templateBody('16505556002', 'order_update', { biz_opaque_callback_data: 'job-9' }));
    await advance(sim, clock, 200);
    const st = statusesOf(rx.received);
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ status: 'failed', biz_opaque_callback_data: 'job-9' });
    expect(st[0]!.errors).toEqual([
      {
        code: 131026,
        title: 'Message undeliverable',
        message: 'Message undeliverable',
        error_data: { details: expect.any(String) },
        href: expect.stringContaining('error-codes'),
      },
    ]);
    expect(st[0]!.pricing).toBeUndefined();
  });
});

describe('pricing objects', () => {
  it('PMP (v23 style): pricing {billable, pricing_model, category, type} on sent/delivered; utility in an open window is free_customer_service', async () => {
    const { rx, sim, clock } = await setup({ pricing: { model: 'PMP', pmpConversationObject: true } });
    await send(sim, templateBody('16505556010'));
    sim.inbound({ phoneNumberId: PHONE, from: '16505556011', text: 'hi' });
    await send(sim, templateBody('16505556011'));
    await send(sim, textBody('16505556011'));
    await advance(sim, clock, 200);
    const st = statusesOf(rx.received);
    const by = (to: string, status: string, n = 0) => st.filter((s) => s.recipient_id === to && s.status === status)[n]!;
    expect(by('16505556010', 'sent').pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' });
    expect(by('16505556010', 'delivered').pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' });
    expect(by('16505556010', 'read').pricing).toBeUndefined();
    expect(by('16505556011', 'sent', 0).pricing).toEqual({ billable: false, pricing_model: 'PMP', category: 'utility', type: 'free_customer_service' });
    expect(by('16505556011', 'sent', 1).pricing).toEqual({ billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' });
    const conv = by('16505556010', 'sent').conversation;
    expect(conv).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      origin: { type: 'utility' },
      expiration_timestamp: expect.stringMatching(/^\d{10}$/),
    });
  });

  // From 2026-10-01 Meta bills service messages and utility templates inside the customer-service window.
  // https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
  it('PMP from 2026-10-01: in-window utility and service are regular (billed); before it they are free_customer_service', async () => {
    const { rx, sim, clock } = await setup({ pricing: { model: 'PMP' } });
    clock.set(Date.parse('2026-09-30T23:00:00Z'));
    sim.inbound({ phoneNumberId: PHONE, from: '16505556021', text: 'hi' });
    await send(sim, templateBody('16505556021'));
    clock.set(Date.parse('2026-10-01T00:00:00Z'));
    sim.inbound({ phoneNumberId: PHONE, from: '16505556022', text: 'hi' });
    await send(sim, templateBody('16505556022'));
    await send(sim, textBody('16505556022'));
    await advance(sim, clock, 200);
    const st = statusesOf(rx.received);
    const by = (to: string, status: string, n = 0) => st.filter((s) => s.recipient_id === to && s.status === status)[n]!;
    expect(by('16505556021', 'delivered').pricing).toEqual({ billable: false, pricing_model: 'PMP', category: 'utility', type: 'free_customer_service' });
    expect(by('16505556022', 'delivered', 0).pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' });
    expect(by('16505556022', 'delivered', 1).pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'service', type: 'regular' });
  });

  it('PMP: a referral inbound opens a free entry point', async () => {
    const { rx, sim, clock } = await setup({ pricing: { model: 'PMP' } });
    sim.inbound({ phoneNumberId: PHONE, from: '16505556012', text: 'from ad', referral: true });
    await send(sim, templateBody('16505556012'));
    await advance(sim, clock, 200);
    const sent = statusesOf(rx.received).find((s) => s.status === 'sent')!;
    expect(sent.pricing).toEqual({ billable: false, pricing_model: 'PMP', category: 'referral_conversion', type: 'free_entry_point' });
    expect(sent.conversation).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), origin: { type: 'referral_conversion' } });
  });

  // Graph API v24: under per-message pricing, status webhooks carry no `conversation` object except for
  // free entry points. https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
  it('PMP v24 (default): no conversation object on sent/delivered of regular or free_customer_service messages', async () => {
    const { rx, sim, clock } = await setup({ pricing: { model: 'PMP' } });
    await send(sim, templateBody('16505556030'));
    sim.inbound({ phoneNumberId: PHONE, from: '16505556031', text: 'hi' });
    await send(sim, textBody('16505556031'));
    await advance(sim, clock, 200);
    const st = statusesOf(rx.received).filter((s) => s.status === 'sent' || s.status === 'delivered');
    expect(st.length).toBe(4);
    for (const s of st) {
      expect(s.pricing).toBeDefined();
      expect(s.conversation).toBeUndefined();
    }
  });

  it('CBP: one conversation per category for 24 h, expiration only on sent, billable except service', async () => {
    const { rx, sim, clock } = await setup({ pricing: { model: 'CBP' }, rules: { pairRate: { burst: 10, intervalMs: 1000 } } });
    await send(sim, templateBody('16505556020'));
    await send(sim, templateBody('16505556020'));
    await send(sim, templateBody('16505556020', 'otp_code'));
    await advance(sim, clock, 200);
    const st = statusesOf(rx.received);
    const sent = st.filter((s) => s.status === 'sent');
    expect(sent).toHaveLength(3);
    expect(sent[0]!.conversation.id).toBe(sent[1]!.conversation.id);
    expect(sent[2]!.conversation.id).not.toBe(sent[0]!.conversation.id);
    expect(sent[0]).toMatchObject({
      conversation: { id: expect.stringMatching(/^[0-9a-f]{32}$/), expiration_timestamp: expect.stringMatching(/^\d{10}$/), origin: { type: 'utility' } },
      pricing: { billable: true, pricing_model: 'CBP', category: 'utility' },
    });
    expect(Number(sent[0]!.conversation.expiration_timestamp) - Number(sent[0]!.timestamp)).toBeGreaterThan(23 * 3600);
    expect(sent[2]!.pricing).toEqual({ billable: true, pricing_model: 'CBP', category: 'authentication' });
    const delivered = st.find((s) => s.status === 'delivered')!;
    expect(delivered.conversation.expiration_timestamp).toBeUndefined();
    expect(delivered.conversation.origin).toEqual({ type: 'utility' });
    // free-form reply inside a window the person opened: service, not billable
    sim.inbound({ phoneNumberId: PHONE, from: '16505556021', text: 'hi' });
    await send(sim, textBody('16505556021'));
    await advance(sim, clock, 200);
    const svc = statusesOf(rx.received).find((s) => s.recipient_id === '16505556021' && s.status === 'sent')!;
    expect(svc.pricing).toEqual({ billable: false, pricing_model: 'CBP', category: 'service' });
    expect(svc.conversation.origin).toEqual({ type: 'service' });
  });
});

describe('delivery behaviour', () => {
  it('retries a non-2xx answer with backoff until acknowledged', async () => {
    const far: [number, number] = [600_000, 600_000];
    const { rx, sim, clock } = await setup({ webhooks: { delaysMs: { sent: [10, 10], delivered: far, read: far } } }, (n) => (n <= 2 ? 503 : 200));
    await send(sim, templateBody('16505556030', 'hello_world', {}, { body: 0, button: 0 }));
    clock.advance(15);
    await sim.flush(); // "sent" is posted and refused
    expect(rx.attempts()).toBe(1);
    clock.advance(49);
    await sim.flush();
    expect(rx.attempts()).toBe(1); // backoff base 50 ms not yet elapsed
    clock.advance(10);
    await sim.flush();
    await waitFor(() => rx.attempts() === 2);
    clock.advance(60);
    await sim.flush();
    expect(rx.attempts()).toBe(2); // second backoff is 100 ms
    clock.advance(60);
    await sim.flush();
    await waitFor(() => rx.received.length >= 1);
    expect(statusesOf(rx.received)[0]!.status).toBe('sent');
    const w = (sim.stats() as any).webhooks;
    expect(w.failedAttempts).toBe(2);
    expect(w.acknowledged).toBeGreaterThanOrEqual(1);
    expect(w.abandoned).toBe(0);
  });

  it('records deliveries never acknowledged as abandoned after maxAttempts', async () => {
    const { rx, sim, clock } = await setup({}, () => 500);
    await send(sim, templateBody('16505556031', 'hello_world', {}, { body: 0, button: 0 }));
    for (let i = 0; i < 12; i++) await advance(sim, clock, 1000, 1);
    const w = (sim.stats() as any).webhooks;
    expect(w.abandoned).toBe(3); // sent, delivered, read: 4 attempts each
    expect(rx.attempts()).toBe(12);
    expect(w.pending).toBe(0);
    const ab = (await sim.app.inject({ url: '/_sim/webhooks/abandoned' })).json();
    expect(ab[0]).toMatchObject({ attempts: 4, lastError: 'HTTP 500', kind: 'statuses' });
  });

  it('batches several statuses in one POST and delivers duplicates at the configured rates', async () => {
    const { rx, sim, clock } = await setup({ webhooks: { batchFraction: 1, maxBatchSize: 50, duplicateFraction: 1 } });
    for (let i = 0; i < 10; i++) await send(sim, templateBody(`165055561${String(i).padStart(2, '0')}`));
    await advance(sim, clock, 200);
    await waitFor(() => statusesOf(rx.received).length >= 60);
    const sizes = rx.received.map((r) => (r.json.entry[0]!.changes[0]!.value.statuses as unknown[]).length);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    const st = statusesOf(rx.received);
    expect(st.length).toBe(60); // 30 statuses, each POST delivered twice
    const keys = st.map((s) => `${s.id}/${s.status}`);
    expect(new Set(keys).size).toBe(30);
    expect((sim.stats() as any).webhooks.duplicatesSent).toBeGreaterThan(0);
  });

  it('delivers out of order at the configured rate', async () => {
    const { rx, sim, clock } = await setup({ webhooks: { outOfOrderFraction: 1 } });
    await send(sim, templateBody('16505556040'));
    for (let i = 0; i < 10; i++) await advance(sim, clock, 10, 1);
    const order = statusesOf(rx.received).map((s) => s.status);
    expect(order.sort()).toEqual(['delivered', 'read', 'sent']);
    expect(statusesOf(rx.received).map((s) => s.status)).not.toEqual(['sent', 'delivered', 'read']);
  });
});

describe('simulated people and account events', () => {
  it('inbound text, button and interactive replies arrive as messages webhooks; STOP opts out of marketing', async () => {
    const { rx, sim, clock } = await setup({ errorDelivery: 'sync' });
    const t = await sim.app.inject({
      method: 'POST',
      url: '/_sim/inbound',
      payload: { phoneNumberId: PHONE, from: '16505556050', text: 'Olá', profileName: 'Ana' },
    });
    expect(t.statusCode).toBe(200);
    sim.inbound({ phoneNumberId: PHONE, from: '16505556050', type: 'button', payload: 'CONFIRM', title: 'Yes' });
    sim.inbound({ phoneNumberId: PHONE, from: '16505556050', type: 'interactive', payload: 'opt-1', title: 'One', interactiveKind: 'list_reply' });
    await advance(sim, clock, 10);
    const msgs = rx.received.flatMap((r) => r.json.entry[0]!.changes[0]!.value.messages as any[]);
    expect(msgs.map((m) => m.type)).toEqual(['text', 'button', 'interactive']);
    expect(msgs[0]).toMatchObject({
      from: '16505556050',
      id: expect.stringMatching(/^wamid\./),
      timestamp: expect.stringMatching(/^\d+$/),
      text: { body: 'Olá' },
    });
    expect(rx.received[0]!.json.entry[0]!.changes[0]!.value.contacts).toEqual([{ profile: { name: 'Ana' }, wa_id: '16505556050' }]);
    expect(msgs[1].button).toEqual({ payload: 'CONFIRM', text: 'Yes' });
    expect(msgs[2].interactive).toEqual({ type: 'list_reply', list_reply: { id: 'opt-1', title: 'One' } });

    const promo = templateBody('16505556050', 'promo_offer', {}, { body: 2, button: 0 });
    (promo.template as { components: unknown[] }).components.unshift({ type: 'header', parameters: [{ type: 'text', text: 'H' }] });
    expect((await send(sim, promo)).status).toBe(200);
    sim.inbound({ phoneNumberId: PHONE, from: '16505556050', text: 'stop' });
    clock.advance(10_000);
    expect((await send(sim, promo)).body.error.code).toBe(131050);
    sim.inbound({ phoneNumberId: PHONE, from: '16505556050', text: 'START' });
    clock.advance(10_000);
    expect((await send(sim, promo)).status).toBe(200);
  });

  it('people who reply do so after receiving; repliers who say STOP opt out', async () => {
    const { rx, sim, clock } = await setup({ population: { overrides: { '16505556060': 'replies', '16505556061': 'says_stop' } } });
    await send(sim, templateBody('16505556060'));
    const promo = templateBody('16505556061', 'promo_offer', {}, { body: 2, button: 0 });
    (promo.template as { components: unknown[] }).components.unshift({ type: 'header', parameters: [{ type: 'text', text: 'H' }] });
    await send(sim, promo);
    for (let i = 0; i < 8; i++) await advance(sim, clock, 10_000, 1);
    const msgs = rx.received.flatMap((r) => (r.json.entry[0]!.changes[0]!.value.messages as any[] | undefined) ?? []);
    const reply = msgs.find((m) => m.from === '16505556060');
    expect(reply?.type).toBe('button');
    expect(reply?.context?.id).toMatch(/^wamid\./);
    expect(msgs.find((m) => m.from === '16505556061')?.text?.body).toBe('STOP');
    expect(sim.core.isServiceWindowOpen(PHONE, '16505556060')).toBe(true);
  });

  it('quality, template status and account updates are signed webhooks with Meta’s fields', async () => {
    const { rx, sim, clock } = await setup();
    for (const [type, body] of [
      ['phone_number_quality_update', { phoneNumberId: PHONE, event: 'FLAGGED', quality: 'YELLOW' }],
      ['message_template_status_update', { wabaId: WABA, name: 'order_update', event: 'PAUSED', reason: 'LOW_QUALITY' }],
      [
        'account_update',
        { wabaId: WABA, value: { event: 'VOLUME_BASED_PRICING_TIER_UPDATE', volume_tier_info: { tier_update_time: 1, pricing_category: 'UTILITY' } } },
      ],
      ['business_capability_update', { businessId: 'biz-1', messagingLimit: 100000 }],
    ] as const) {
      const r = await sim.app.inject({ method: 'POST', url: `/_sim/events/${type}`, payload: body });
      expect(r.statusCode).toBe(200);
    }
    const bad = await sim.app.inject({ method: 'POST', url: '/_sim/events/message_template_status_update', payload: { wabaId: WABA } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain('name');
    await advance(sim, clock, 10);
    const changes = rx.received.map((r) => ({
      ok: verify(r.raw, r.headers['x-hub-signature-256']),
      time: r.json.entry[0]!.time,
      ...r.json.entry[0]!.changes[0]!,
    }));
    expect(changes.every((c) => c.ok && typeof c.time === 'number')).toBe(true);
    expect(changes.map((c) => c.field)).toEqual([
      'phone_number_quality_update',
      'message_template_status_update',
      'account_update',
      'business_capability_update',
    ]);
    expect(changes[0]!.value).toMatchObject({ display_phone_number: '15550783881', event: 'FLAGGED', current_limit: 'TIER_10K' });
    expect(changes[1]!.value).toMatchObject({
      event: 'PAUSED',
      message_template_name: 'order_update',
      message_template_language: 'en_US',
      reason: 'LOW_QUALITY',
    });
    expect((await send(sim, templateBody('16505556070'))).body.error.code).toBe(132015);
  });

  // https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
  it("THROUGHPUT_UPGRADE is sent exactly as Meta's example (no phone number id, no msg/s) and lifts the enforced limit to 1,000", async () => {
    const { rx, sim, clock } = await setup();
    expect(
      (
        await sim.app.inject({
          method: 'POST',
          url: '/_sim/events/phone_number_quality_update',
          payload: { phoneNumberId: PHONE, event: 'THROUGHPUT_UPGRADE' },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await sim.app.inject({
          method: 'POST',
          url: '/_sim/events/phone_number_quality_update',
          payload: { phoneNumberId: PHONE, event: 'DOWNGRADE', messagingLimit: 2000 },
        })
      ).statusCode,
    ).toBe(200);
    await advance(sim, clock, 10);
    const values = rx.received.map((r) => r.json.entry[0]!.changes[0]!.value);
    expect(values[0]).toEqual({ display_phone_number: '15550783881', event: 'THROUGHPUT_UPGRADE', current_limit: 'TIER_UNLIMITED' });
    expect(values[1]).toEqual({
      display_phone_number: '15550783881',
      event: 'DOWNGRADE',
      old_limit: 'TIER_10K',
      current_limit: 'TIER_2K',
      max_daily_conversations_per_business: 'TIER_2K',
    });
    expect((sim.stats() as { phoneNumbers: Record<string, { throughputMps: number }> }).phoneNumbers[PHONE]!.throughputMps).toBe(1_000);
    const node = await sim.app.inject({ method: 'GET', url: `/v24.0/${PHONE}`, headers: { authorization: 'Bearer sim-access-token-1' } });
    expect(node.json().throughput).toEqual({ level: 'HIGH' });
  });
});
