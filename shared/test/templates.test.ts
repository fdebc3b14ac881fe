import { describe, expect, it } from 'vitest';
import type { TemplateRef } from '../src/contracts/common';
import { checkTemplateRef, withSpecNames } from '../src/templates/check';
import { metaTemplate } from '../src/templates/meta-template';
import { specFromCatalog, specFromMeta, type TemplateSpec } from '../src/templates/spec';

// Template definitions in the shape GET /{waba-id}/message_templates returns them
// (developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm), with the components of
// developers.facebook.com/documentation/business-messaging/whatsapp/templates/ (marketing, authentication,
// media-card-carousel and limited-time-offer templates).
function spec(t: Record<string, unknown>): TemplateSpec {
  const r = specFromMeta('1', metaTemplate.parse({ id: '9', language: 'en_US', status: 'APPROVED', ...t }));
  if (!r.ok) throw new Error(r.reason);
  return r.spec;
}

const launch = spec({
  name: 'summer_launch',
  category: 'MARKETING',
  components: [
    { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1n'] } },
    { type: 'BODY', text: 'Hi {{1}}, our summer range is {{2}} off.' },
    { type: 'FOOTER', text: 'Reply STOP to opt out' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Tell me more' },
        { type: 'URL', text: 'Shop', url: 'https://shop.example/{{1}}' },
        { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+15550001111' },
      ],
    },
  ],
});
const ref = (over: Partial<TemplateRef> = {}): TemplateRef => ({ name: 'summer_launch', language: 'en_US', category: 'marketing', ...over });
const image = { type: 'image' as const, image: { link: 'https://cdn.example/s.jpg' } };

describe('template specs from Meta', () => {
  it('reads header format, placeholders, buttons and which take parameters', () => {
    expect(launch).toMatchObject({
      category: 'marketing',
      parameterFormat: 'POSITIONAL',
      header: { format: 'IMAGE' },
      body: ['1', '2'],
      bodyParams: 2,
      buttonParams: 1,
      source: 'meta',
    });
    expect(launch.buttons.map((b) => [b.index, b.type, b.subType, b.required])).toEqual([
      [0, 'QUICK_REPLY', 'quick_reply', false],
      [1, 'URL', 'url', true],
      [2, 'PHONE_NUMBER', undefined, false],
    ]);
    const auth = spec({
      name: 'otp',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', text: '*{{1}}* is your verification code.' },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'ONE_TAP', text: 'Autofill' }] },
      ],
    });
    expect(auth.buttons[0]).toMatchObject({ subType: 'url', required: true });
    expect(specFromMeta('1', metaTemplate.parse({ name: 'x', language: 'en', status: 'APPROVED', category: 'TRANSACTIONAL' })).ok).toBe(false);
  });
});

describe('checking a request against a template', () => {
  it('accepts a complete request and names every mismatch at once', () => {
    expect(checkTemplateRef(ref({ header: image, bodyParams: ['Ann', '20%'], buttonParams: [{ index: 1, subType: 'url', text: 's' }] }), launch)).toEqual([]);
    const problems = checkTemplateRef(
      ref({
        headerParams: ['x'],
        bodyParams: ['Ann'],
        buttonParams: [
          { index: 0, subType: 'url', text: 's' },
          { index: 2, subType: 'url', text: 'x' },
          { index: 7, subType: 'url', text: 'x' },
        ],
      }),
      launch,
    );
    expect(problems).toEqual([
      'header: template header is IMAGE, got text',
      'bodyParams: body takes 2 parameters, got 1',
      'buttonParams[0]: button 0 is QUICK_REPLY (sub_type quick_reply), got url',
      'buttonParams[1]: button 2 is PHONE_NUMBER and takes no parameter',
      'buttonParams[2]: template has no button at index 7 (it has 3)',
      'buttonParams: button 1 (URL) takes a parameter, got none',
    ]);
  });

  it('leaves values to recipients when asked (partial), but still refuses wrong kinds', () => {
    expect(checkTemplateRef(ref(), launch, { partial: true })).toEqual([]);
    expect(checkTemplateRef(ref({ header: { type: 'video', video: { id: '1' } } }), launch, { partial: true })).toEqual([
      'header: template header is IMAGE, got video',
    ]);
  });

  it('named parameters: names must match; the header parameter name is filled from the template', () => {
    const named = spec({
      name: 'n',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'For {{first_name}}' },
        { type: 'BODY', text: 'Order {{order_id}} ships {{when}}' },
      ],
    });
    const r = ref({
      name: 'n',
      category: 'utility',
      headerParams: ['Ann'],
      namedParams: { order_id: 'A-1', when: { type: 'date_time', fallbackValue: 'Monday' } },
    });
    expect(checkTemplateRef(r, named)).toEqual([]);
    expect(withSpecNames(r, named).header).toEqual({ type: 'text', text: 'Ann', parameterName: 'first_name' });
    expect(checkTemplateRef(ref({ name: 'n', headerParams: ['Ann'], bodyParams: ['A-1'], namedParams: { order_id: 'A', carrier: 'x' } }), named)).toEqual([
      'bodyParams: template uses named parameters (order_id, when); give `namedParams`',
      'namedParams: missing when',
      'namedParams: template has no parameter carrier',
    ]);
  });

  it('carousel cards, limited-time offers and copy codes', () => {
    const carousel = spec({
      name: 'c',
      category: 'MARKETING',
      components: [
        { type: 'BODY', text: 'Picks' },
        {
          type: 'CAROUSEL',
          cards: [1, 2].map(() => ({
            components: [
              { type: 'HEADER', format: 'VIDEO' },
              { type: 'BODY', text: 'Now {{1}}' },
              { type: 'BUTTONS', buttons: [{ type: 'URL', url: 'https://x.example/{{1}}' }] },
            ],
          })),
        },
      ],
    });
    const card = {
      header: { type: 'video' as const, video: { id: '77' } },
      bodyParams: ['9.99'],
      buttonParams: [{ index: 0, subType: 'url' as const, text: 'a' }],
    };
    expect(checkTemplateRef(ref({ name: 'c', cards: [card, card] }), carousel)).toEqual([]);
    expect(checkTemplateRef(ref({ name: 'c', cards: [card, { ...card, header: image, buttonParams: [] }] }), carousel)).toEqual([
      'cards[1].header: template header is VIDEO, got image',
      'cards[1].buttonParams: button 0 (URL) takes a parameter, got none',
    ]);
    expect(checkTemplateRef(ref({ name: 'c', cards: [card] }), carousel)).toEqual(['cards: carousel template has 2 cards, got 1']);

    const lto = spec({
      name: 'l',
      category: 'MARKETING',
      components: [
        { type: 'LIMITED_TIME_OFFER', limited_time_offer: { text: 'Ends soon', has_expiration: true } },
        { type: 'BODY', text: 'Code {{1}}' },
        { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE' }] },
      ],
    });
    expect(
      checkTemplateRef(
        ref({ name: 'l', bodyParams: ['X'], buttonParams: [{ index: 0, subType: 'copy_code', text: 'SAVE20' }], limitedTimeOffer: { expirationTimeMs: 1 } }),
        lto,
      ),
    ).toEqual([]);
    expect(
      checkTemplateRef(ref({ name: 'l', bodyParams: ['X'], buttonParams: [{ index: 0, subType: 'copy_code', text: 'A-CODE-LONGER-THAN-15' }] }), lto),
    ).toEqual([
      'buttonParams[0]: a copy code is at most 15 characters',
      'limitedTimeOffer: template shows an offer expiry; give `limitedTimeOffer.expirationTimeMs`',
    ]);
  });

  it('catalogue templates check counts and accept any button kind', () => {
    const legacy = specFromCatalog({
      wabaId: '1',
      name: 'otp_code',
      language: 'en_US',
      category: 'authentication',
      headerParams: 0,
      bodyParams: 1,
      buttonParams: 1,
      status: 'APPROVED',
      coalescible: false,
    });
    expect(checkTemplateRef(ref({ name: 'otp_code', bodyParams: ['123456'], buttonParams: [{ index: 0, subType: 'url', text: '123456' }] }), legacy)).toEqual(
      [],
    );
    expect(checkTemplateRef(ref({ name: 'otp_code', bodyParams: ['1', '2'] }), legacy)).toEqual([
      'bodyParams: body takes 1 parameters, got 2',
      'buttonParams: button 0 (ANY) takes a parameter, got none',
    ]);
  });
});
