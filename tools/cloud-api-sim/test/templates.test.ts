import { describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index';
import { TOKEN, WABA, send, simsClosedAfterEach } from './helpers';

// Shapes from developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (template object),
// …/cloud-api/guides/send-message-templates/media-card-carousel-templates,
// developers.facebook.com/documentation/business-messaging/whatsapp/templates/marketing-templates/limited-time-offer-templates
// and the codes of developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes.
const sim = simsClosedAfterEach();

const RICH = [
  {
    name: 'summer_launch',
    language: 'en_US',
    category: 'marketing' as const,
    components: [
      { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1n'] } },
      { type: 'BODY', text: 'Hi {{1}}, our summer range is {{2}} off.', example: { body_text: [['Ann', '20%']] } },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Tell me more' },
          { type: 'URL', text: 'Shop', url: 'https://shop.example/{{1}}', example: ['https://shop.example/s'] },
        ],
      },
    ],
  },
  {
    name: 'order_named',
    language: 'en_US',
    category: 'utility' as const,
    parameterFormat: 'NAMED' as const,
    components: [{ type: 'BODY', text: 'Order {{order_id}} for {{first_name}} ships {{when}}.' }],
  },
  {
    name: 'flash_offer',
    language: 'en_US',
    category: 'marketing' as const,
    components: [
      { type: 'LIMITED_TIME_OFFER', limited_time_offer: { text: 'Expiring offer!', has_expiration: true } },
      { type: 'BODY', text: 'Use code {{1}}.' },
      { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', example: 'SAVE20' }] },
    ],
  },
  {
    name: 'three_cards',
    language: 'en_US',
    category: 'marketing' as const,
    components: [
      { type: 'BODY', text: 'Picks for you' },
      {
        type: 'CAROUSEL',
        cards: [0, 1].map(() => ({
          components: [
            { type: 'HEADER', format: 'IMAGE' },
            { type: 'BODY', text: 'Now {{1}}' },
            { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Buy' }] },
          ],
        })),
      },
    ],
  },
];

function richSim(): Simulator {
  const templates = RICH.map((t) => ({ ...t, components: t.components as Record<string, unknown>[] }));
  return sim({
    businesses: [
      { id: 'b', wabas: [{ id: WABA, accessTokens: [TOKEN], phoneNumbers: [{ id: '106540352242922', displayPhoneNumber: '15550783881' }], templates }] },
    ],
  }).sim;
}

const tpl = (name: string, components: unknown[]) => ({
  messaging_product: 'whatsapp',
  to: '16505551234',
  type: 'template',
  template: { name, language: { code: 'en_US' }, components },
});
const image = { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example/summer.jpg' } }] };
const body = (...texts: string[]) => ({ type: 'body', parameters: texts.map((text) => ({ type: 'text', text })) });
const url = { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'summer' }] };

describe('message_templates listing', () => {
  it('lists every template with its fields, page by page through cursors', async () => {
    const s = richSim();
    const seen: Record<string, unknown>[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const q = new URLSearchParams({
        fields: 'name,language,status,category,parameter_format,quality_score,components',
        limit: '3',
        ...(after ? { after } : {}),
      });
      const res = await s.app.inject({ method: 'GET', url: `/v24.0/${WABA}/message_templates?${q}`, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(200);
      const json = res.json() as { data: Record<string, unknown>[]; paging?: { cursors: { after: string }; next?: string } };
      seen.push(...json.data);
      if (!json.paging?.next) break;
      expect(json.data).toHaveLength(3);
      after = json.paging.cursors.after;
    }
    expect(seen.map((t) => t.name)).toEqual(RICH.map((t) => t.name));
    expect(seen[1]).toMatchObject({
      name: 'order_named',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      quality_score: { score: 'GREEN' },
    });
    expect((seen[0]!.components as unknown[])[0]).toEqual(RICH[0]!.components[0]);
  });

  it('refuses another account’s WABA and a bad token', async () => {
    const s = richSim();
    expect((await s.app.inject({ method: 'GET', url: `/v24.0/999/message_templates`, headers: { authorization: `Bearer ${TOKEN}` } })).json().error.code).toBe(
      100,
    );
    expect((await s.app.inject({ method: 'GET', url: `/v24.0/${WABA}/message_templates`, headers: { authorization: 'Bearer nope-nope' } })).statusCode).toBe(
      401,
    );
  });
});

describe('template sends are checked against the components', () => {
  it('accepts a complete image-header template and refuses each mismatch with Meta’s code', async () => {
    const s = richSim();
    expect((await send(s, tpl('summer_launch', [image, body('Ann', '20%'), url]))).status).toBe(200);
    const cases: [unknown[], number][] = [
      [[body('Ann', '20%'), url], 132012], // header missing: "header component parameter should not be empty"
      [[{ type: 'header', parameters: [{ type: 'video', video: { link: 'https://x.example/v.mp4' } }] }, body('Ann', '20%'), url], 132012],
      [[{ type: 'header', parameters: [{ type: 'image', image: {} }] }, body('Ann', '20%'), url], 131008],
      [[image, body('Ann'), url], 132000],
      [[image, body('Ann', '20%')], 132000], // URL button needs its suffix
      [[image, body('Ann', '20%'), { ...url, sub_type: 'quick_reply' }], 132012],
      [[image, body('Ann', '20%'), url, { type: 'button', sub_type: 'url', index: '5', parameters: [{ type: 'text', text: 'x' }] }], 131009],
      [[image, body('Ann\nB', '20%'), url], 132007],
      [[image, body('A'.repeat(1100), '20%'), url], 132005],
    ];
    for (const [components, code] of cases) {
      const r = await send(s, tpl('summer_launch', components));
      expect({ components, code: r.body.error?.code }).toEqual({ components, code });
    }
  });

  it('named parameters need their parameter_name; limited-time offers their expiry; carousels every card', async () => {
    const s = richSim();
    const named = (names: string[]) => [{ type: 'body', parameters: names.map((n) => ({ type: 'text', parameter_name: n, text: 'v' })) }];
    expect((await send(s, tpl('order_named', named(['order_id', 'first_name', 'when'])))).status).toBe(200);
    expect((await send(s, tpl('order_named', named(['order_id', 'first_name', 'date'])))).body.error.code).toBe(132000);

    const code = { type: 'button', sub_type: 'copy_code', index: 0, parameters: [{ type: 'coupon_code', coupon_code: 'SAVE20' }] };
    const lto = { type: 'limited_time_offer', parameters: [{ type: 'limited_time_offer', limited_time_offer: { expiration_time_ms: 1_900_000_000_000 } }] };
    expect((await send(s, tpl('flash_offer', [lto, body('SAVE20'), code]))).status).toBe(200);
    expect((await send(s, tpl('flash_offer', [body('SAVE20'), code]))).body.error.code).toBe(131008);

    const card = (i: number) => ({ card_index: i, components: [{ type: 'header', parameters: [{ type: 'image', image: { id: '1234' } }] }, body('9.99')] });
    expect((await send(s, tpl('three_cards', [{ type: 'carousel', cards: [card(0), card(1)] }]))).status).toBe(200);
    expect((await send(s, tpl('three_cards', [{ type: 'carousel', cards: [card(0)] }]))).body.error.code).toBe(132012);
  });

  it('a template changed at the simulator is listed and enforced at once', async () => {
    const s = richSim();
    const put = (body: unknown) => s.app.inject({ method: 'PUT', url: '/_sim/templates', payload: body as Record<string, unknown> });
    const changed = await put({
      wabaId: WABA,
      name: 'order_named',
      language: 'en_US',
      category: 'marketing',
      components: [{ type: 'BODY', text: 'Order {{order_id}} for {{first_name}} ships {{when}} via {{carrier}}.' }],
    });
    expect(changed.json()).toMatchObject({ category: 'MARKETING', previous_category: 'UTILITY' });
    const named = (names: string[]) => [{ type: 'body', parameters: names.map((n) => ({ type: 'text', parameter_name: n, text: 'v' })) }];
    expect((await send(s, tpl('order_named', named(['order_id', 'first_name', 'when'])))).body.error.code).toBe(132000);
    await put({ wabaId: WABA, name: 'order_named', status: 'PAUSED' });
    expect((await send(s, tpl('order_named', named(['order_id', 'first_name', 'when', 'carrier'])))).body.error.code).toBe(132015);
  });
});
