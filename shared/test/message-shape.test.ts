import { describe, expect, it } from 'vitest';
import { messageShape } from '../src/message-shape';
import { metaTemplate } from '../src/templates/meta-template';
import { specFromCatalog, specFromMeta, type TemplateSpec } from '../src/templates/spec';

// Components as GET /{waba-id}/message_templates returns them
// (developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm).
function spec(t: Record<string, unknown>): TemplateSpec {
  const r = specFromMeta('1', metaTemplate.parse({ id: '9', language: 'en_US', status: 'APPROVED', ...t }));
  if (!r.ok) throw new Error(r.reason);
  return r.spec;
}

const launch = spec({
  name: 'summer_launch',
  category: 'MARKETING',
  components: [
    { type: 'HEADER', format: 'IMAGE' },
    { type: 'BODY', text: 'Hi {{1}}, {{2}} off.' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'More' },
        { type: 'URL', text: 'Shop', url: 'https://shop.example/{{1}}' },
        { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+15550001111' },
      ],
    },
  ],
});

describe('messageShape', () => {
  it('names the real template structure, parameterised or not, and no values', () => {
    const shape = messageShape(
      {
        type: 'template',
        template: {
          name: 'summer_launch',
          language: 'en_US',
          category: 'marketing',
          header: { type: 'image', image: { link: 'https://cdn.example/private-token.jpg' } },
          bodyParams: ['Ana', { type: 'currency', fallbackValue: '$5', code: 'USD', amount1000: 5000 }],
          buttonParams: [{ index: 1, subType: 'url', text: 'ana-code' }],
        },
      },
      launch,
    );
    expect(shape).toEqual({
      messageType: 'template',
      components: ['body:positional', 'button:phone_number', 'button:quick_reply', 'button:url', 'header:image', 'param:currency'],
    });
    expect(JSON.stringify(shape)).not.toMatch(/Ana|ana-code|private-token|\$5/);
  });

  it('falls back to the request for catalogue templates, whose buttons are of unknown kind', () => {
    const catalog = specFromCatalog({
      wabaId: '1',
      name: 'otp',
      language: 'en',
      category: 'authentication',
      headerParams: 0,
      bodyParams: 1,
      buttonParams: 1,
      status: 'APPROVED',
      coalescible: false,
    });
    const shape = messageShape(
      {
        type: 'template',
        template: { name: 'otp', language: 'en', category: 'authentication', bodyParams: ['1234'], buttonParams: [{ index: 0, subType: 'url', text: '1234' }] },
      },
      catalog,
    );
    expect(shape.components).toEqual(['body:positional', 'button:url']);
  });

  it('records carousels, cards and named bodies', () => {
    const shape = messageShape({
      type: 'template',
      template: {
        name: 'c',
        language: 'en',
        category: 'marketing',
        namedParams: { first_name: 'Ana' },
        cards: [{ header: { type: 'video', video: { id: '123' } }, buttonParams: [{ index: 0, subType: 'quick_reply', text: 'x' }] }],
      },
    });
    expect(shape.components).toEqual(['body:named', 'card_button:quick_reply', 'card_header:video', 'carousel']);
  });

  it('gives the free-form kind and its structure', () => {
    expect(messageShape({ type: 'text', text: { body: 'hi', previewUrl: true } })).toEqual({ messageType: 'text', components: ['preview_url'] });
    expect(messageShape({ type: 'freeform', content: { type: 'image', image: { id: '77' } } })).toEqual({ messageType: 'image', components: ['media:id'] });
    expect(messageShape({ type: 'freeform', content: { type: 'document', document: { link: 'https://x.example/a.pdf' } }, replyTo: 'wamid.A' })).toEqual({
      messageType: 'document',
      components: ['context', 'media:link'],
    });
    expect(
      messageShape({
        type: 'freeform',
        content: {
          type: 'interactive',
          interactive: { type: 'button', body: 'Pick', header: { type: 'text', text: 'Hi' }, buttons: [{ id: 'a', title: 'A' }] },
        },
      }),
    ).toEqual({ messageType: 'interactive', components: ['header:text', 'interactive:button'] });
    expect(messageShape({ type: 'freeform', content: { type: 'reaction', reaction: { messageId: 'wamid.B', emoji: '👍' } } }).messageType).toBe('reaction');
  });
});
