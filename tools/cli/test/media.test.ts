import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@wa/cloud-api-sim';
import type { Catalog } from '@wa/shared/catalog';
import { uploadMedia } from '../src/media';

// POST /{phone-number-id}/media then GET /{media-id} as Meta documents them
// (developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/), against the simulator.
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const WABA = '102290129340398';
const catalog: Catalog = {
  businesses: [{ wabaId: WABA, portfolioId: 'p', messagingLimit: 250 }],
  phoneNumbers: [{ id: '106540352242922', wabaId: WABA, displayNumber: '15550783881', throughputMps: 80 }],
  pools: {},
  templates: [],
};

describe('media upload', () => {
  it('uploads a file once and returns an id the simulator knows, with its expiry', async () => {
    sim = createSimulator({});
    const url = await sim.start();
    const file = join(mkdtempSync(join(tmpdir(), 'media-')), 'summer.jpg');
    writeFileSync(file, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const r = await uploadMedia({
      file,
      phoneNumberId: '106540352242922',
      catalog,
      accessTokens: `${WABA}=sim-access-token-1`,
      graph: { baseUrl: url, version: 'v24.0' },
      clock: { now: () => Date.parse('2026-12-01T00:00:00Z') },
    });
    expect(r).toMatchObject({ type: 'image/jpeg', expiresAt: '2026-12-31T00:00:00.000Z' });
    const info = await (await fetch(`${url}/v24.0/${r.id}`, { headers: { authorization: 'Bearer sim-access-token-1' } })).json();
    expect(info).toMatchObject({ id: r.id, mime_type: 'image/jpeg', file_size: 7 });
    await expect(
      uploadMedia({
        file,
        phoneNumberId: '106540352242922',
        type: 'image/gif',
        catalog,
        accessTokens: `${WABA}=sim-access-token-1`,
        graph: { baseUrl: url, version: 'v24.0' },
      }),
    ).rejects.toThrow(/131053/);
  });
});
