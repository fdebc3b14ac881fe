import { describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../src/index';
import { PHONE, TOKEN, WABA, advance, send, simsClosedAfterEach, startReceiver, templateBody } from './helpers';

const sim = simsClosedAfterEach();

const world = (limit: 250 | 2000 | 'unlimited', mps = 1000): ScenarioInput => ({
  businesses: [
    {
      id: 'biz-a',
      messagingLimit: limit,
      wabas: [
        {
          id: WABA,
          accessTokens: [TOKEN],
          phoneNumbers: [
            { id: PHONE, displayPhoneNumber: '15550783881', throughputMps: mps },
            { id: '106540352242999', displayPhoneNumber: '15550783899', throughputMps: mps },
          ],
          templates: [{ name: 'order_update', language: 'en_US', category: 'utility', params: { body: 1, buttons: [1] } }],
        },
      ],
    },
  ],
});

describe('throughput per number (130429)', () => {
  it('admits mps requests in a sliding second, refuses the next, admits again once the window slides', async () => {
    const { sim: s, clock } = sim(world('unlimited', 5));
    for (let i = 0; i < 5; i++) expect((await send(s, templateBody(`1650555200${i}`))).status).toBe(200);
    const over = await send(s, templateBody('16505552009'));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe(130429);
    // the other number has its own capacity
    expect((await send(s, templateBody('16505552010'), { phone: '106540352242999' })).status).toBe(200);
    clock.advance(999);
    expect((await send(s, templateBody('16505552011'))).body.error?.code).toBe(130429);
    clock.advance(2);
    expect((await send(s, templateBody('16505552012'))).status).toBe(200);
    const st = s.stats() as any;
    expect(st.phoneNumbers[PHONE].rejectedByCode['130429']).toBe(2);
    expect(st.phoneNumbers[PHONE].peakRequestsPerSecond).toBe(7);
    expect(st.phoneNumbers[PHONE].peakAcceptedPerSecond).toBe(5);
  });

  it('inbound messages use the same capacity', async () => {
    const { sim: s } = sim(world('unlimited', 5));
    for (let i = 0; i < 3; i++) s.inbound({ phoneNumberId: PHONE, from: `1650555300${i}`, text: 'hi' });
    expect((await send(s, templateBody('16505553010'))).status).toBe(200);
    expect((await send(s, templateBody('16505553011'))).status).toBe(200);
    expect((await send(s, templateBody('16505553012'))).body.error.code).toBe(130429);
  });
});

describe('throughput upgrade', () => {
  it('a quality update carrying a new throughput changes the enforced per-second limit', async () => {
    const { sim: s } = sim(world('unlimited', 2));
    expect((await send(s, templateBody('16505552100'))).status).toBe(200);
    expect((await send(s, templateBody('16505552101'))).status).toBe(200);
    expect((await send(s, templateBody('16505552102'))).body.error.code).toBe(130429);
    const r = await s.app.inject({
      method: 'POST',
      url: '/_sim/events/phone_number_quality_update',
      payload: { phoneNumberId: PHONE, event: 'UPGRADE', throughputMps: 4 },
    });
    expect(r.statusCode).toBe(200);
    expect((await send(s, templateBody('16505552103'))).status).toBe(200);
    expect((await send(s, templateBody('16505552104'))).status).toBe(200);
    expect((await send(s, templateBody('16505552105'))).body.error.code).toBe(130429);
  });
});

describe('pair rate per recipient (131056)', () => {
  it('allows a burst to one person, refuses more, allows others, again once the borrowed time has passed', async () => {
    const { sim: s, clock } = sim({ ...world('unlimited'), rules: { pairRate: { burst: 2, intervalMs: 6000 } } });
    expect((await send(s, templateBody('16505554000'))).status).toBe(200);
    expect((await send(s, templateBody('16505554000'))).status).toBe(200);
    const r = await send(s, templateBody('16505554000'));
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe(131056);
    expect((await send(s, templateBody('16505554001'))).status).toBe(200);
    clock.advance(11_999);
    expect((await send(s, templateBody('16505554000'))).body.error.code).toBe(131056);
    clock.advance(1);
    expect((await send(s, templateBody('16505554000'))).status).toBe(200); // a new burst
    expect((await send(s, templateBody('16505554000'))).status).toBe(200);
    expect((await send(s, templateBody('16505554000'))).body.error.code).toBe(131056);
  });
});

describe('pair rate as Meta documents it (default rules)', () => {
  // One message every 6 s to the same person; bursts of up to 45 in 6 s borrow from later quota, so
  // after a burst of 20 the pair waits about 2 minutes. Over it: 131056 (HTTP 429).
  // https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
  it('admits a burst of 45 to one person, refuses the 46th; a burst of 20 blocks the pair for 2 minutes', async () => {
    const { sim: s, clock } = sim(world('unlimited'));
    for (let i = 0; i < 45; i++) expect((await send(s, templateBody('16505554100'))).status).toBe(200);
    const over = await send(s, templateBody('16505554100'));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe(131056);

    for (let i = 0; i < 20; i++) expect((await send(s, templateBody('16505554101'))).status).toBe(200);
    clock.advance(6000);
    expect((await send(s, templateBody('16505554101'))).body.error.code).toBe(131056);
    clock.advance(113_999);
    expect((await send(s, templateBody('16505554101'))).body.error.code).toBe(131056);
    clock.advance(1); // 20 × 6 s after the burst began
    expect((await send(s, templateBody('16505554101'))).status).toBe(200);
  });

  it('keeps the product’s pacing (one per 6 s to a person) clear of 131056 indefinitely', async () => {
    const { sim: s, clock } = sim(world('unlimited'));
    for (let i = 0; i < 100; i++) {
      expect((await send(s, templateBody('16505554102'))).status).toBe(200);
      clock.advance(6000);
    }
  });
});

describe('portfolio messaging limit (unique business-initiated recipients per rolling 24 h)', () => {
  it('is shared by the portfolio’s numbers; already-messaged people and replies in an open window do not count; the window rolls', async () => {
    const { sim: s, clock } = sim(world(250));
    for (let i = 0; i < 250; i++) {
      const phone = i % 2 === 0 ? PHONE : '106540352242999';
      const r = await send(s, templateBody(`4477009${String(i).padStart(5, '0')}`), { phone });
      expect(r.status).toBe(200);
      if (i % 50 === 0) clock.advance(1000);
    }
    const refused = await send(s, templateBody('447701000000'), { phone: '106540352242999' });
    expect(refused.status).toBe(429); // Meta's error-code table answers 131048 with HTTP 429
    expect(refused.body.error.code).toBe(131048);
    // someone already in the window does not count again
    clock.advance(7000);
    expect((await send(s, templateBody('447700900000'))).status).toBe(200);
    // a person with an open service window can get a template without using the budget
    s.inbound({ phoneNumberId: PHONE, from: '447701000001', text: 'hi' });
    expect((await send(s, templateBody('447701000001'))).status).toBe(200);
    expect((s.stats() as any).businesses['biz-a'].uniqueRecipientsInWindow).toBe(250);
    // 24 h later the window has rolled
    clock.advance(24 * 3600_000);
    expect((await send(s, templateBody('447701000000'))).status).toBe(200);
  });

  it('business_capability_update raises the enforced limit and is delivered as a signed webhook', async () => {
    const rx = await startReceiver();
    const { sim: s, clock } = sim(world(250), rx.url);
    try {
      for (let i = 0; i < 250; i++) {
        await send(s, templateBody(`4477008${String(i).padStart(5, '0')}`));
        if (i % 50 === 0) clock.advance(1000);
      }
      clock.advance(1000);
      expect((await send(s, templateBody('447701100000'))).body.error.code).toBe(131048);
      s.event({ type: 'business_capability_update', businessId: 'biz-a', messagingLimit: 2000 });
      expect((await send(s, templateBody('447701100000'))).status).toBe(200);
      await advance(s, clock, 100);
      const ev = rx.received.flatMap((r) => r.json.entry.flatMap((e) => e.changes)).find((c) => c.field === 'business_capability_update');
      expect(ev?.value).toMatchObject({ max_daily_conversations_per_business: 2000 });
      expect(ev?.value).not.toHaveProperty('max_daily_conversation_per_phone'); // being removed by Meta
      s.event({ type: 'business_capability_update', businessId: 'biz-a', messagingLimit: 250 });
      expect((await send(s, templateBody('447701100001'))).body.error.code).toBe(131048);
    } finally {
      await rx.close();
    }
  });

  it('phone_number_quality_update with a new limit changes the enforced limit too', async () => {
    const { sim: s, clock } = sim(world(250));
    for (let i = 0; i < 250; i++) {
      await send(s, templateBody(`4477007${String(i).padStart(5, '0')}`));
      if (i % 50 === 0) clock.advance(1000);
    }
    clock.advance(1000);
    expect((await send(s, templateBody('447701200000'))).body.error.code).toBe(131048);
    s.event({ type: 'phone_number_quality_update', phoneNumberId: PHONE, event: 'UPGRADE', messagingLimit: 2000 });
    expect((await send(s, templateBody('447701200000'))).status).toBe(200);
    expect((s.stats() as any).phoneNumbers[PHONE].quality).toBe('GREEN');
  });
});
