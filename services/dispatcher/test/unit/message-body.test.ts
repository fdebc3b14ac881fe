import { describe, expect, it } from 'vitest';
import { messageBody } from '../../src/adapters/cloud-api-http';

// Expected bodies are Meta's documented shapes: developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
// (template, parameter objects), …/cloud-api/guides/send-message-templates/media-card-carousel-templates and
// developers.facebook.com/documentation/business-messaging/whatsapp/templates/marketing-templates/limited-time-offer-templates.
describe('template message bodies', () => {
  it('renders media headers, currency/date_time, every button kind, offers and carousel cards', () => {
    const body = messageBody(
      '16505551234',
      {
        type: 'template',
        template: {
          name: 'summer_launch',
          language: 'en_US',
          category: 'marketing',
          header: { type: 'image', image: { id: '1013859600285441' } },
          limitedTimeOffer: { expirationTimeMs: 1_900_000_000_000 },
          bodyParams: [
            'Ann',
            { type: 'currency', fallbackValue: '$100.99', code: 'USD', amount1000: 100990 },
            { type: 'date_time', fallbackValue: 'February 25, 1977' },
          ],
          buttonParams: [
            { index: 0, subType: 'quick_reply', text: 'more-info' },
            { index: 1, subType: 'url', text: 'summer' },
            { index: 2, subType: 'copy_code', text: 'SAVE20' },
            { index: 3, subType: 'flow', flowToken: 'tok', flowActionData: { screen: 'A' } },
            { index: 4, subType: 'mpm', thumbnailProductRetailerId: 'sku-1', sections: [{ title: 'Picks', productRetailerIds: ['sku-1', 'sku-2'] }] },
          ],
        },
      },
      'job-1',
    );
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '16505551234',
      biz_opaque_callback_data: 'job-1',
      type: 'template',
      template: {
        name: 'summer_launch',
        language: { code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { id: '1013859600285441' } }] },
          { type: 'limited_time_offer', parameters: [{ type: 'limited_time_offer', limited_time_offer: { expiration_time_ms: 1_900_000_000_000 } }] },
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ann' },
              { type: 'currency', currency: { fallback_value: '$100.99', code: 'USD', amount_1000: 100990 } },
              { type: 'date_time', date_time: { fallback_value: 'February 25, 1977' } },
            ],
          },
          { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'more-info' }] },
          { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'summer' }] },
          { type: 'button', sub_type: 'copy_code', index: '2', parameters: [{ type: 'coupon_code', coupon_code: 'SAVE20' }] },
          { type: 'button', sub_type: 'flow', index: '3', parameters: [{ type: 'action', action: { flow_token: 'tok', flow_action_data: { screen: 'A' } } }] },
          {
            type: 'button',
            sub_type: 'mpm',
            index: '4',
            parameters: [
              {
                type: 'action',
                action: {
                  thumbnail_product_retailer_id: 'sku-1',
                  sections: [{ title: 'Picks', product_items: [{ product_retailer_id: 'sku-1' }, { product_retailer_id: 'sku-2' }] }],
                },
              },
            ],
          },
        ],
      },
    });
  });

  it('renders named parameters, location and document headers, and carousel cards', () => {
    const named = messageBody(
      '1',
      {
        type: 'template',
        template: {
          name: 'n',
          language: 'en',
          category: 'utility',
          header: { type: 'text', text: 'Ann', parameterName: 'first_name' },
          namedParams: { order_id: 'A-1' },
        },
      },
      'j',
    ) as { template: { components: unknown[] } };
    expect(named.template.components).toEqual([
      { type: 'header', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ann' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'A-1', parameter_name: 'order_id' }] },
    ]);
    const loc = messageBody(
      '1',
      {
        type: 'template',
        template: {
          name: 'l',
          language: 'en',
          category: 'utility',
          header: { type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'HQ' } },
        },
      },
      'j',
    ) as { template: { components: unknown[] } };
    expect(loc.template.components).toEqual([
      { type: 'header', parameters: [{ type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'HQ' } }] },
    ]);
    const doc = messageBody(
      '1',
      {
        type: 'template',
        template: {
          name: 'd',
          language: 'en',
          category: 'utility',
          header: { type: 'document', document: { link: 'https://x.example/i.pdf', filename: 'invoice.pdf' } },
        },
      },
      'j',
    ) as { template: { components: unknown[] } };
    expect(doc.template.components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { link: 'https://x.example/i.pdf', filename: 'invoice.pdf' } }] },
    ]);
    const carousel = messageBody(
      '1',
      {
        type: 'template',
        template: {
          name: 'c',
          language: 'en',
          category: 'marketing',
          cards: [{ header: { type: 'image', image: { id: '5' } }, bodyParams: ['9.99'], buttonParams: [{ index: 0, subType: 'quick_reply', text: 'buy-1' }] }],
        },
      },
      'j',
    ) as { template: { components: unknown[] } };
    expect(carousel.template.components).toEqual([
      {
        type: 'carousel',
        cards: [
          {
            card_index: 0,
            components: [
              { type: 'header', parameters: [{ type: 'image', image: { id: '5' } }] },
              { type: 'body', parameters: [{ type: 'text', text: '9.99' }] },
              { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'buy-1' }] },
            ],
          },
        ],
      },
    ]);
  });
});

describe('free-form message bodies', () => {
  const ff = (
    content: Parameters<typeof messageBody>[1] extends infer M ? (M extends { type: 'freeform'; content: infer C } ? C : never) : never,
    replyTo?: string,
  ) => messageBody('16505551234', { type: 'freeform', content, ...(replyTo ? { replyTo } : {}) }, 'j');

  it('renders each kind in Meta’s shape, with context for replies', () => {
    expect(ff({ type: 'text', text: { body: 'See https://x.example', previewUrl: true } }, 'wamid.IN1')).toMatchObject({
      type: 'text',
      text: { body: 'See https://x.example', preview_url: true },
      context: { message_id: 'wamid.IN1' },
    });
    expect(ff({ type: 'image', image: { id: '1234', caption: 'Menu' } })).toMatchObject({ type: 'image', image: { id: '1234', caption: 'Menu' } });
    expect(ff({ type: 'audio', audio: { link: 'https://x.example/a.ogg', caption: 'dropped' } })).toMatchObject({
      type: 'audio',
      audio: { link: 'https://x.example/a.ogg' },
    });
    expect(ff({ type: 'document', document: { link: 'https://x.example/i.pdf', filename: 'invoice.pdf', caption: 'Invoice' } })).toMatchObject({
      document: { link: 'https://x.example/i.pdf', filename: 'invoice.pdf', caption: 'Invoice' },
    });
    expect(ff({ type: 'location', location: { latitude: 52.52, longitude: 13.4, name: 'Store' } })).toMatchObject({
      type: 'location',
      location: { latitude: 52.52, longitude: 13.4, name: 'Store' },
    });
    expect(
      ff({
        type: 'contacts',
        contacts: [{ name: { formattedName: 'Ana Lima', firstName: 'Ana' }, phones: [{ phone: '+16505551234', type: 'WORK', waId: '16505551234' }] }],
      }),
    ).toMatchObject({
      type: 'contacts',
      contacts: [{ name: { formatted_name: 'Ana Lima', first_name: 'Ana' }, phones: [{ phone: '+16505551234', type: 'WORK', wa_id: '16505551234' }] }],
    });
    expect(ff({ type: 'reaction', reaction: { messageId: 'wamid.IN1', emoji: '👍' } })).toMatchObject({
      type: 'reaction',
      reaction: { message_id: 'wamid.IN1', emoji: '👍' },
    });
  });

  it('renders interactive reply buttons, lists, CTA URLs and flows', () => {
    expect(
      ff({
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'text', text: 'Summer' },
          body: 'Want the catalogue?',
          footer: 'Acme',
          buttons: [
            { id: 'yes', title: 'Yes' },
            { id: 'no', title: 'No' },
          ],
        },
      }),
    ).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Summer' },
        body: { text: 'Want the catalogue?' },
        footer: { text: 'Acme' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'no', title: 'No' } },
          ],
        },
      },
    });
    expect(
      ff({
        type: 'interactive',
        interactive: {
          type: 'list',
          body: 'Pick a slot',
          button: 'Slots',
          sections: [{ title: 'Today', rows: [{ id: 's1', title: '10:00', description: 'Morning' }] }],
        },
      }),
    ).toMatchObject({
      interactive: { type: 'list', action: { button: 'Slots', sections: [{ title: 'Today', rows: [{ id: 's1', title: '10:00', description: 'Morning' }] }] } },
    });
    expect(ff({ type: 'interactive', interactive: { type: 'cta_url', body: 'Track it', displayText: 'Track', url: 'https://x.example/t/1' } })).toMatchObject({
      interactive: { type: 'cta_url', action: { name: 'cta_url', parameters: { display_text: 'Track', url: 'https://x.example/t/1' } } },
    });
    expect(
      ff({
        type: 'interactive',
        interactive: { type: 'flow', body: 'Book', flowId: '1234567', flowCta: 'Book now', flowToken: 't', flowAction: 'navigate', screen: 'START' },
      }),
    ).toMatchObject({
      interactive: {
        type: 'flow',
        action: {
          name: 'flow',
          parameters: {
            flow_message_version: '3',
            flow_id: '1234567',
            flow_cta: 'Book now',
            flow_token: 't',
            flow_action: 'navigate',
            flow_action_payload: { screen: 'START' },
          },
        },
      },
    });
  });
});
