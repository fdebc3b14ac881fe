import { describe, expect, it } from 'vitest';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, world } from './harness';
import { inProcessDispatchers } from './in-process';

/**
 * Template pacing against the simulator: a new marketing template (quality UNKNOWN) goes out until
 * a threshold, then Meta answers 200 with `message_status: held_for_quality_assessment` and holds the
 * message until its quality assessment ends; the status webhooks come after that.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-pacing
 */
let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

describe('template pacing of a new marketing template', () => {
  it('held sends are recorded as sent with messageStatus held_for_quality_assessment, not failed or retried; their statuses follow the verdict', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 80 }], { scenario: { templatePacing: { threshold: 2, assessmentMs: 3_000, verdict: 'release' } } });
    const promo = w.scenario.businesses![0]!.wabas[0]!.templates!.find((t) => t.name === 'promo_offer')!;
    (promo as { quality?: string }).quality = 'UNKNOWN'; // new: not rated yet
    const sim = await h.startSim(w.scenario);
    await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });

    const jobs = Array.from({ length: 5 }, (_, i) =>
      job({
        to: recipient(100 + i),
        lane: 'marketing',
        category: 'marketing',
        message: { type: 'template', template: { name: 'promo_offer', language: 'en_US', category: 'marketing', bodyParams: ['x'] } },
      }),
    );
    // One at a time, so the threshold falls on known jobs.
    for (const j of jobs) {
      await h.produce([j]);
      await waitFor(() => h!.terminal(j.jobId).length > 0, { timeoutMs: 30_000, description: `outcome of ${j.jobId}` });
    }
    const outcomes = jobs.map((j) => h!.terminal(j.jobId)[0]!);
    expect(outcomes.map((e) => e.outcome)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(outcomes.map((e) => e.messageStatus ?? 'accepted')).toEqual([
      'accepted',
      'accepted',
      'held_for_quality_assessment',
      'held_for_quality_assessment',
      'held_for_quality_assessment',
    ]);
    expect(h.sent.filter((e) => e.outcome === 'retry_scheduled' || e.outcome === 'failed')).toEqual([]);
    expect(h.dlq).toEqual([]);

    // The simulator holds them (no status yet), then releases them after the assessment.
    const report = async (wamid: string) =>
      (await sim.app.inject({ url: `/_sim/messages/${encodeURIComponent(wamid)}` })).json() as { statusesEmitted: string[] };
    const held = outcomes[2]!.wamid!;
    expect((await report(held)).statusesEmitted).toEqual([]);
    await waitFor(async () => (await report(held)).statusesEmitted.includes('delivered'), {
      timeoutMs: 15_000,
      description: 'held message delivered after the verdict',
    });
  });
});
