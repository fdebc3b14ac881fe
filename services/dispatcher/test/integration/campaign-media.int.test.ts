import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

// A marketing template with an image header, as Meta lists it; the campaign's image is uploaded once through
// POST /{phone-number-id}/media (developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/)
// and its id, valid 30 days, is sent to every recipient.
const LAUNCH = {
  name: 'media_launch',
  language: 'en_US',
  category: 'marketing' as const,
  components: [
    { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1n'] } },
    { type: 'BODY', text: 'Hi {{1}}, new in.' },
  ],
};

let downloads = 0;
const media: Server = createServer((_req, res) => {
  downloads += 1;
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  res.end(Buffer.alloc(2_048, 7));
});
afterAll(() => new Promise<void>((r) => media.close(() => r())));

describe('campaign media uploaded once (real Kafka, Redis, simulator)', () => {
  it('uploads once per campaign and sender, reuses the id, refreshes it before expiry, and keeps links working', async () => {
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
    const link = `http://127.0.0.1:${(media.address() as AddressInfo).port}/hero.jpg`;
    h = new Harness();
    await h.setup(1);
    const w = world([{ id: '1001', mps: 80 }]);
    w.scenario.businesses![0]!.wabas[0]!.templates!.push(LAUNCH as never);
    await h.startSim(w.scenario);
    await dispatchers.start(h, w.catalog, { MEDIA_UPLOAD_HOSTS: '127.0.0.1' });
    const uploads = () => h!.sim!.core.media.size;

    const launch = (to: string, image: { link: string; upload?: boolean }, campaignId = 'camp-media') =>
      job({
        to,
        campaignId,
        lane: 'marketing',
        category: 'marketing',
        message: {
          type: 'template',
          template: { name: 'media_launch', language: 'en_US', category: 'marketing', header: { type: 'image', image }, bodyParams: ['Ann'] },
        },
      });
    const run = async (jobs: ReturnType<typeof launch>[]) => {
      await h!.produce(jobs);
      await waitFor(() => jobs.every((j) => h!.terminal(j.jobId).length > 0), { timeoutMs: 30_000, description: 'outcomes' });
      return jobs.map((j) => h!.terminal(j.jobId)[0]!.outcome);
    };

    // Six recipients of one campaign: one download, one upload, every send by the id (the simulator refuses unknown ids with 131053).
    const first = Array.from({ length: 6 }, (_, i) => launch(recipient(10 + i), { link, upload: true }));
    expect(await run(first)).toEqual(Array(6).fill('sent'));
    expect([downloads, uploads()]).toEqual([1, 1]);
    expect(first.map((j) => h!.terminal(j.jobId)[0]!.components)).toEqual(Array(6).fill(['body:positional', 'header:image']));

    // Sending by link stays possible: no upload without `upload`, nor from a host not in MEDIA_UPLOAD_HOSTS.
    expect(await run([launch(recipient(20), { link }), launch(recipient(21), { link: 'https://cdn.example/hero.jpg', upload: true })])).toEqual([
      'sent',
      'sent',
    ]);
    expect([downloads, uploads()]).toEqual([1, 1]);

    // 28 days later (the stored upload time moved back) the id is replaced before Meta's 30-day expiry.
    const keys = createRedisKeys(h.redisPrefix);
    const [key] = await h.redis.keys(`${keys.campaignMedia('camp-media', '1001', '')}*`);
    const stored = JSON.parse((await h.redis.get(key!))!) as { id: string; uploadedAt: number };
    await h.redis.set(key!, JSON.stringify({ ...stored, uploadedAt: stored.uploadedAt - 28 * 86_400_000 }), 'KEEPTTL');
    expect(await run([launch(recipient(30), { link, upload: true })])).toEqual(['sent']);
    expect([downloads, uploads()]).toEqual([2, 2]);
    expect(JSON.parse((await h.redis.get(key!))!).id).not.toBe(stored.id);
    expect(await h.redis.ttl(key!)).toBeGreaterThan(28 * 86_400);

    // Another campaign uploads its own copy.
    expect(await run([launch(recipient(40), { link, upload: true }, 'camp-other')])).toEqual(['sent']);
    expect(uploads()).toBe(3);
  });
});
