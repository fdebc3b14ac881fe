import { describe, expect, it } from 'vitest';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import { linksToUpload, MEDIA_REFRESH_AFTER_MS, needsRefresh, withMediaIds } from '../../src/domain/campaign-media';

const HERO = 'https://media.example/hero.jpg';
const template: DispatchMessage = {
  type: 'template',
  template: {
    name: 'summer_launch',
    language: 'en_US',
    category: 'marketing',
    header: { type: 'image', image: { link: HERO, upload: true } },
    cards: [{ header: { type: 'video', video: { link: 'https://media.example/clip.mp4' } } }],
  },
};

describe('campaign media', () => {
  it('finds the links marked for upload and swaps them for ids, keeping the rest', () => {
    expect(linksToUpload(template)).toEqual([HERO]);
    const out = withMediaIds(template, new Map([[HERO, '1015']]));
    expect(out).toEqual({
      ...template,
      template: { ...template.template, header: { type: 'image', image: { id: '1015' } }, cards: template.template.cards },
    });
    // No id (upload failed): sent by link.
    expect(withMediaIds(template, new Map())).toBe(template);
  });

  it('covers free-form media, not interactive headers', () => {
    const doc: DispatchMessage = { type: 'freeform', content: { type: 'document', document: { link: HERO, upload: true, filename: 'a.pdf' } } };
    expect(withMediaIds(doc, new Map([[HERO, '7']]))).toEqual({ type: 'freeform', content: { type: 'document', document: { id: '7', filename: 'a.pdf' } } });
    const interactive: DispatchMessage = {
      type: 'freeform',
      content: {
        type: 'interactive',
        interactive: { type: 'button', body: 'Hi', header: { type: 'image', image: { link: HERO, upload: true } }, buttons: [{ id: 'a', title: 'A' }] },
      },
    };
    expect(linksToUpload(interactive)).toEqual([]);
  });

  it('refreshes an upload before the 30-day expiry', () => {
    expect(needsRefresh(0, MEDIA_REFRESH_AFTER_MS - 1)).toBe(false);
    expect(needsRefresh(0, MEDIA_REFRESH_AFTER_MS)).toBe(true);
    expect(MEDIA_REFRESH_AFTER_MS).toBeLessThan(30 * 86_400_000);
  });
});
