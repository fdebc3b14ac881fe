import { describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index';
import { PHONE, WABA, advance, send, simsClosedAfterEach, startReceiver, statusesOf, templateBody, textBody } from './helpers';

const sim = simsClosedAfterEach();

describe('send endpoint: auth and envelopes', () => {
  it('accepts a template with Meta’s success envelope', async () => {
    const { sim: s } = sim();
    const r = await send(s, templateBody('+1 650-555-1234'));
    expect(r.status).toBe(200);
    expect(r.body.messaging_product).toBe('whatsapp');
    expect(r.body.contacts).toEqual([{ input: '+1 650-555-1234', wa_id: '16505551234' }]);
    expect(r.body.messages[0].id).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/);
    expect(r.body.messages[0].message_status).toBe('accepted');
  });

  it('refuses a missing or unknown token with 401 / code 190', async () => {
    const { sim: s } = sim();
    for (const token of [null, 'not-a-real-token']) {
      const r = await send(s, templateBody('16505551234'), { token });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe(190);
      expect(r.body.error.type).toBe('OAuthException');
      expect(typeof r.body.error.fbtrace_id).toBe('string');
    }
  });

  it('refuses a phone number id the token may not use (100 / subcode 33)', async () => {
    const { sim: s } = sim();
    const r = await send(s, templateBody('16505551234'), { phone: '999999' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(100);
    expect(r.body.error.error_subcode).toBe(33);
  });

  it('errors carry message, type, code, error_data.details and fbtrace_id', async () => {
    const { sim: s } = sim();
    const r = await send(s, templateBody('16505551234', 'no_such_template'));
    expect(r.status).toBe(400);
    expect(Object.keys(r.body.error)).toEqual(['message', 'type', 'code', 'error_data', 'fbtrace_id']);
    expect(r.body.error.code).toBe(132001);
    expect(r.body.error.message).toBe('(#132001) Template does not exist');
    expect(r.body.error.error_data.messaging_product).toBe('whatsapp');
  });
});

describe('send endpoint: body validation per type', () => {
  const cases: [string, Record<string, unknown>, number | null][] = [
    ['text ok (inside window)', textBody('16505550001'), null],
    ['text without body', { messaging_product: 'whatsapp', to: '16505550001', type: 'text', text: {} }, 100],
    ['missing messaging_product', { to: '16505550001', type: 'text', text: { body: 'x' } }, 100],
    ['missing to', { messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }, 100],
    ['bad to', { messaging_product: 'whatsapp', to: 'abc', type: 'text', text: { body: 'x' } }, 131009],
    ['unsupported type', { messaging_product: 'whatsapp', to: '16505550001', type: 'hologram' }, 131051],
    ['image by id', { messaging_product: 'whatsapp', to: '16505550001', type: 'image', image: { id: '1234' } }, null],
    ['image by link', { messaging_product: 'whatsapp', to: '16505550001', type: 'image', image: { link: 'https://x.test/a.png', caption: 'c' } }, null],
    ['image without id or link', { messaging_product: 'whatsapp', to: '16505550001', type: 'image', image: { caption: 'c' } }, 131008],
    ['document with bad link', { messaging_product: 'whatsapp', to: '16505550001', type: 'document', document: { link: 'ftp://x' } }, 131009],
    ['audio with caption', { messaging_product: 'whatsapp', to: '16505550001', type: 'audio', audio: { id: '1', caption: 'no' } }, 131009],
    ['video by id', { messaging_product: 'whatsapp', to: '16505550001', type: 'video', video: { id: '9' } }, null],
    ['reaction', { messaging_product: 'whatsapp', to: '16505550001', type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '👍' } }, null],
    ['reaction without message_id', { messaging_product: 'whatsapp', to: '16505550001', type: 'reaction', reaction: { emoji: '👍' } }, 100],
    [
      'interactive buttons',
      {
        messaging_product: 'whatsapp',
        to: '16505550001',
        type: 'interactive',
        interactive: { type: 'button', body: { text: 'Pick' }, action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }] } },
      },
      null,
    ],
    [
      'interactive with 4 buttons',
      {
        messaging_product: 'whatsapp',
        to: '16505550001',
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: 'Pick' },
          action: { buttons: [1, 2, 3, 4].map((i) => ({ type: 'reply', reply: { id: `b${i}`, title: `B${i}` } })) },
        },
      },
      131009,
    ],
    [
      'interactive list',
      {
        messaging_product: 'whatsapp',
        to: '16505550001',
        type: 'interactive',
        interactive: { type: 'list', body: { text: 'Pick' }, action: { button: 'Menu', sections: [{ title: 's', rows: [{ id: 'r1', title: 'Row' }] }] } },
      },
      null,
    ],
    ['template without language', { messaging_product: 'whatsapp', to: '16505550001', type: 'template', template: { name: 'order_update' } }, 100],
  ];
  it.each(cases)('%s', async (_name, body, code) => {
    const { sim: s } = sim();
    s.inbound({ phoneNumberId: PHONE, from: '16505550001', text: 'hi' }); // open the service window for free-form types
    const r = await send(s, body);
    if (code === null) {
      expect(r.status).toBe(200);
      expect(r.body.messages[0].id).toMatch(/^wamid\./);
    } else {
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(code);
    }
  });

  // developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read
  it('mark-as-read answers {success:true} for a received message and 131009 for any other id', async () => {
    const { sim: s } = sim();
    const { id } = s.inbound({ phoneNumberId: PHONE, from: '16505550001', text: 'hi' });
    const r = await send(s, { messaging_product: 'whatsapp', status: 'read', message_id: id });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true });
    const unknown = await send(s, { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.ABC' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe(131009);
    const phones = (s.stats() as { phoneNumbers: Record<string, { markRead: number }> }).phoneNumbers;
    expect(phones[PHONE]!.markRead).toBe(1);
  });
});

describe('templates: existence, status, parameter count', () => {
  it('approved template with the right counts passes; wrong counts → 132000', async () => {
    const { sim: s } = sim();
    expect((await send(s, templateBody('16505550002'))).status).toBe(200);
    const bad = await send(s, templateBody('16505550003', 'order_update', {}, { body: 2, button: 1 }));
    expect(bad.body.error.code).toBe(132000);
    const noButton = await send(s, templateBody('16505550003', 'order_update', {}, { body: 1, button: 0 }));
    expect(noButton.body.error.code).toBe(132000);
  });

  it('unknown name or language → 132001; paused → 132015; disabled → 132016', async () => {
    const { sim: s } = sim();
    expect((await send(s, templateBody('16505550004', 'nope'))).body.error.code).toBe(132001);
    const wrongLang = templateBody('16505550004');
    (wrongLang.template as { language: { code: string } }).language.code = 'pt_BR';
    expect((await send(s, wrongLang)).body.error.code).toBe(132001);
    expect((await send(s, templateBody('16505550004', 'winter_sale', {}, { body: 1, button: 0 }))).body.error.code).toBe(132015);
    expect((await send(s, templateBody('16505550004', 'old_promo', {}, { body: 1, button: 0 }))).body.error.code).toBe(132016);
  });

  it('message_template_status_update changes the status enforced', async () => {
    const { sim: s } = sim();
    const body = templateBody('16505550005', 'promo_offer', {}, { body: 2, button: 0 });
    (body.template as { components: unknown[] }).components.unshift({ type: 'header', parameters: [{ type: 'text', text: 'H' }] });
    expect((await send(s, body)).status).toBe(200);
    s.event({ type: 'message_template_status_update', wabaId: WABA, name: 'promo_offer', event: 'PAUSED', reason: 'LOW_QUALITY' });
    expect((await send(s, { ...body, to: '16505550006' })).body.error.code).toBe(132015);
    s.event({ type: 'message_template_status_update', wabaId: WABA, name: 'promo_offer', event: 'REINSTATED' });
    expect((await send(s, { ...body, to: '16505550007' })).status).toBe(200);
  });
});

describe('service window (131047)', () => {
  it('free-form outside the window fails with 131047; after an inbound message it is accepted; 24 h later it fails again', async () => {
    const rx = await startReceiver();
    const { sim: s, clock } = sim({}, rx.url);
    try {
      const first = await send(s, textBody('16505550010'));
      expect(first.status).toBe(200); // Meta accepts, then reports failure by webhook
      await advance(s, clock, 1000);
      const failed = statusesOf(rx.received).find((x) => x.id === first.body.messages[0].id);
      expect(failed?.status).toBe('failed');
      expect(failed?.errors[0].code).toBe(131047);

      s.inbound({ phoneNumberId: PHONE, from: '16505550010', text: 'hello' });
      const inside = await send(s, textBody('16505550010'));
      await advance(s, clock, 1000);
      const ok = statusesOf(rx.received)
        .filter((x) => x.id === inside.body.messages[0].id)
        .map((x) => x.status);
      expect(ok).toEqual(['sent', 'delivered', 'read']);

      clock.advance(24 * 3600_000);
      const later = await send(s, textBody('16505550010'));
      await advance(s, clock, 1000);
      expect(statusesOf(rx.received).find((x) => x.id === later.body.messages[0].id)?.errors[0].code).toBe(131047);
    } finally {
      await rx.close();
    }
  });

  it('errorDelivery "sync" refuses free-form outside the window on the call itself', async () => {
    const { sim: s } = sim({ errorDelivery: 'sync' });
    const r = await send(s, textBody('16505550011'));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(131047);
  });
});

describe('recipient population', () => {
  it('seeded population decides undeliverable / opted-out / experiment deterministically', async () => {
    const over = {
      errorDelivery: 'sync' as const,
      population: { notOnWhatsAppFraction: 0.3, optedOutMarketingFraction: 0.3, experimentFraction: 0.2, replyFraction: 0, stopFraction: 0, readFraction: 1 },
    };
    const { sim: a } = sim(over);
    const { sim: b } = sim(over);
    const codes = async (s: Simulator) => {
      const out: (number | 200)[] = [];
      for (let i = 0; i < 40; i++) {
        const body = templateBody(`1650555${String(1000 + i)}`, 'promo_offer', {}, { body: 2, button: 0 });
        (body.template as { components: unknown[] }).components.unshift({ type: 'header', parameters: [{ type: 'text', text: 'H' }] });
        const r = await send(s, body);
        out.push(r.status === 200 ? 200 : r.body.error.code);
      }
      return out;
    };
    const ca = await codes(a);
    expect(ca).toEqual(await codes(b));
    for (const c of [200, 131026, 131050, 130472]) expect(ca).toContain(c);
    // utility templates are not subject to marketing opt-out or experiments
    const utility = await send(a, templateBody(`1650555${1000 + ca.indexOf(131050)}`));
    expect(utility.status).toBe(200);
  });

  it('overrides pin a person; the marketing ecosystem throttle refuses a configurable fraction (131049)', async () => {
    const { sim: s } = sim({
      errorDelivery: 'sync',
      population: { overrides: { '447700900001': 'not_on_whatsapp' } },
      faults: { ecosystemThrottleFraction: 1 },
    });
    expect((await send(s, templateBody('447700900001'))).body.error.code).toBe(131026);
    const promo = templateBody('447700900002', 'promo_offer', {}, { body: 2, button: 0 });
    (promo.template as { components: unknown[] }).components.unshift({ type: 'header', parameters: [{ type: 'text', text: 'H' }] });
    expect((await send(s, promo)).body.error.code).toBe(131049);
    expect((await send(s, templateBody('447700900002'))).status).toBe(200);
  });
});

describe('faults', () => {
  it('transient errors at fraction 1 → 131000 with HTTP 5xx; at 0 → none', async () => {
    const { sim: s } = sim({ faults: { transientFraction: 1, transientHttpStatus: 503 } });
    const r = await send(s, templateBody('16505550020'));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe(131000);
    const { sim: ok } = sim({ faults: { transientFraction: 0 } });
    expect((await send(ok, templateBody('16505550020'))).status).toBe(200);
  });

  it('latency distribution delays responses', async () => {
    const { sim: s } = sim({ faults: { latency: { kind: 'fixed', ms: 60 } } });
    const t0 = performance.now();
    await send(s, templateBody('16505550021'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });
});
