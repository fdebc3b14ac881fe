import { describe, expect, it } from 'vitest';
import { indexCatalog, parseCatalog } from '@wa/shared/catalog';
import { notificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { metaTemplate } from '@wa/shared/templates/meta-template';
import { specFromMeta } from '@wa/shared/templates/spec';
import { TemplateOverlay } from '@wa/shared/templates/store';
import { parseCsvHeader, parseCsvRecord, parseNdjsonLine } from '../../src/domain/audience-format';
import { buildJob, resolveRecipient } from '../../src/domain/expand';
import { planRequest } from '../../src/domain/validate';
import catalogJson from '../../../../config/catalog.example.json';

// A template as GET /{waba-id}/message_templates lists it (developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm):
// image header, named body parameters, a quick reply and a URL button with a suffix.
const WABA = '102290129340398';
const synced = specFromMeta(
  WABA,
  metaTemplate.parse({
    name: 'summer_named',
    language: 'en_US',
    status: 'APPROVED',
    category: 'MARKETING',
    parameter_format: 'NAMED',
    components: [
      { type: 'HEADER', format: 'IMAGE' },
      { type: 'BODY', text: 'Hi {{first_name}}, {{discount}} off today.' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'More' },
          { type: 'URL', text: 'Shop', url: 'https://shop.example/{{1}}' },
        ],
      },
    ],
  }),
);
if (!synced.ok) throw new Error(synced.reason);
const overlay = new TemplateOverlay();
overlay.replace([synced.spec]);
const catalog = indexCatalog(parseCatalog(catalogJson), overlay);

const request = (template: Record<string, unknown>, target: Record<string, unknown> = { audience: { path: 'a.csv', format: 'csv' } }) =>
  notificationRequestV1.parse({
    v: 1,
    idempotencyKey: 'k',
    sender: { pool: 'acme-main' },
    ...target,
    template: { name: 'summer_named', language: 'en_US', category: 'marketing', ...template },
  });

describe('per-recipient values for a synced template', () => {
  it('reads named, button and media-header columns from CSV and checks each row against the template', () => {
    const planned = planRequest(request({ namedParams: { discount: '20%' } }), catalog, { coalesceWindowMs: 0 });
    expect(planned.ok).toBe(true);
    if (!planned.ok) return;
    const layout = parseCsvHeader('phone,body.first_name,button.1,header.image'.split(','))!;
    const row = parseCsvRecord('+4915112345678,Ann,ann-42,https://cdn.example/ann.jpg'.split(','), layout, 0);
    expect(row).toEqual({
      ok: true,
      recipient: {
        index: 0,
        to: '+4915112345678',
        namedParams: { first_name: 'Ann' },
        buttonValues: { 1: 'ann-42' },
        header: { type: 'image', image: { link: 'https://cdn.example/ann.jpg' } },
      },
    });
    const resolved = resolveRecipient(planned.plan, row.ok === true ? row.recipient : (undefined as never));
    expect(resolved.ok).toBe(true);
    if (!resolved.ok) return;
    const job = buildJob(planned.plan, resolved.recipient, '2026-01-01T00:00:00.000Z');
    expect(job.message).toEqual({
      type: 'template',
      template: {
        name: 'summer_named',
        language: 'en_US',
        category: 'marketing',
        namedParams: { discount: '20%', first_name: 'Ann' },
        header: { type: 'image', image: { link: 'https://cdn.example/ann.jpg' } },
        buttonParams: [{ index: 1, subType: 'url', text: 'ann-42' }],
      },
    });
    // A row without the URL suffix (an empty cell gives no value) is refused on its own, naming what is missing.
    const thin = parseCsvRecord(
      '+4915112345679,Bo,,https://cdn.example/bo.jpg'.split(','),
      parseCsvHeader('phone,body.first_name,button.0,header.image'.split(','))!,
      1,
    );
    const refused = resolveRecipient(planned.plan, thin.ok === true ? thin.recipient : (undefined as never));
    expect(refused.ok === false && refused.problem.detail).toBe('template summer_named/en_US: buttonParams: button 1 (URL) takes a parameter, got none');
    expect(parseCsvRecord('+49151,Ann,x,not-a-link'.split(','), layout, 2)).toEqual({
      ok: false,
      detail: 'audience row: header.image must be an http(s) link or a media id',
    });
  });

  it('reads the same values from NDJSON lines, and a request without recipients values is checked whole', () => {
    expect(
      parseNdjsonLine('{"to":"+4915112345678","namedParams":{"first_name":"Ann"},"header":{"type":"image","image":{"id":"1013859600285441"}}}', 0),
    ).toEqual({
      ok: true,
      recipient: { index: 0, to: '+4915112345678', namedParams: { first_name: 'Ann' }, header: { type: 'image', image: { id: '1013859600285441' } } },
    });
    expect(parseNdjsonLine('{"to":"+49151","header":{"type":"gif"}}', 0).ok).toBe(false);
    const whole = planRequest(request({ namedParams: { discount: '20%' } }, { to: '+4915112345678' }), catalog, { coalesceWindowMs: 0 });
    expect(whole.ok === false && whole.detail).toBe(
      'template summer_named/en_US: header: template header is IMAGE; give `header: {type: "image", …}`; namedParams: missing first_name; buttonParams: button 1 (URL) takes a parameter, got none',
    );
  });
});
