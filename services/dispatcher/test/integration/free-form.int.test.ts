import { describe, expect, it } from 'vitest';
import type { FreeFormContent } from '@wa/shared/contracts/free-form';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

// Every free-form kind of developers.facebook.com/docs/whatsapp/cloud-api/reference/messages, sent
// through the dispatcher to the simulator inside a service window; outside it the gate refuses.
const KINDS: FreeFormContent[] = [
  { type: 'text', text: { body: 'Your table is ready https://x.example/t', previewUrl: true } },
  { type: 'image', image: { link: 'https://cdn.example/menu.jpg', caption: 'Menu' } },
  { type: 'video', video: { link: 'https://cdn.example/tour.mp4' } },
  { type: 'audio', audio: { link: 'https://cdn.example/hello.ogg' } },
  { type: 'document', document: { link: 'https://cdn.example/invoice.pdf', filename: 'invoice.pdf' } },
  { type: 'sticker', sticker: { link: 'https://cdn.example/thanks.webp' } },
  { type: 'location', location: { latitude: 52.52, longitude: 13.405, name: 'Acme Berlin', address: 'Alexanderplatz 1' } },
  { type: 'contacts', contacts: [{ name: { formattedName: 'Acme Support' }, phones: [{ phone: '+15550783881', type: 'WORK' }] }] },
  {
    type: 'interactive',
    interactive: {
      type: 'button',
      body: 'Shall we deliver tomorrow?',
      buttons: [
        { id: 'yes', title: 'Yes' },
        { id: 'later', title: 'Later' },
      ],
    },
  },
  {
    type: 'interactive',
    interactive: {
      type: 'list',
      body: 'Pick a slot',
      button: 'Slots',
      sections: [
        {
          title: 'Tomorrow',
          rows: [
            { id: 's1', title: '09:00' },
            { id: 's2', title: '14:00' },
          ],
        },
      ],
    },
  },
  { type: 'interactive', interactive: { type: 'cta_url', body: 'Track your parcel', displayText: 'Track', url: 'https://x.example/track/1' } },
  {
    type: 'interactive',
    interactive: { type: 'flow', body: 'Book a fitting', flowId: '1234567890', flowCta: 'Book', flowToken: 'tok-1', flowAction: 'navigate', screen: 'START' },
  },
  { type: 'reaction', reaction: { messageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTcyQkY4', emoji: '👍' } },
];

describe('free-form messages (real Kafka, Redis, simulator)', () => {
  it('sends every kind inside the service window, replies with context, and refuses outside it', async () => {
    h = new Harness();
    await h.setup(1);
    const w = world([{ id: '1001', mps: 80 }]);
    await h.startSim(w.scenario);
    const keys = createRedisKeys(h.redisPrefix);
    const people = KINDS.map((_, i) => recipient(100 + i));
    for (const p of people) {
      h.sim!.inbound({ phoneNumberId: '1001', from: p, text: 'hi' });
      await h.redis.set(keys.serviceWindow('1001', p), String(Date.now() - 60_000), 'EX', 3600);
    }
    await dispatchers.start(h, w.catalog);
    const jobs = KINDS.map((content, i) =>
      job({ to: people[i]!, category: 'service', message: { type: 'freeform', content, ...(i === 0 ? { replyTo: 'wamid.IN-1' } : {}) } }),
    );
    const closed = job({ to: recipient(300), category: 'service', message: { type: 'freeform', content: KINDS[1]! } });
    await h.produce([...jobs, closed]);
    await waitFor(() => [...jobs, closed].every((j) => h!.terminal(j.jobId).length > 0), {
      timeoutMs: 30_000,
      description: 'an outcome for every free-form job',
    });
    for (const [i, j] of jobs.entries())
      expect({ kind: KINDS[i]!.type, outcome: h.terminal(j.jobId)[0]!.outcome }).toEqual({ kind: KINDS[i]!.type, outcome: 'sent' });
    const types = await Promise.all(
      jobs.map(async (j) => ((await (await fetch(`${h!.simUrl}/_sim/messages/${h!.terminal(j.jobId)[0]!.wamid}`)).json()) as { type: string }).type),
    );
    expect(types).toEqual(KINDS.map((k) => k.type));
    // The audit event names the kind and structure for analytics (shared/src/message-shape.ts).
    expect(jobs.map((j) => h!.terminal(j.jobId)[0]!.messageType)).toEqual(KINDS.map((k) => k.type));
    expect(h.terminal(jobs[0]!.jobId)[0]!.components).toEqual(['context', 'preview_url']);
    expect(h.terminal(jobs[9]!.jobId)[0]!.components).toEqual(['interactive:list']);
    expect(h.dlq.find((d) => d.jobId === closed.jobId)?.reason).toBe('outside_service_window');
  });
});
