import { afterEach, describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../src/index';
import { PHONE, TOKEN, WABA, advance, makeSim, send, startReceiver, statusesOf, templateBody } from './helpers';

/**
 * Template pacing of a new marketing template: sends go out until a threshold, later ones are held
 * (`message_status: held_for_quality_assessment`, no status yet), then released or dropped.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-pacing
 */
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

const world = (verdict: 'release' | 'pause'): ScenarioInput => ({
  templatePacing: { threshold: 2, assessmentMs: 60_000, verdict },
  businesses: [
    {
      id: 'biz-a',
      messagingLimit: 'unlimited',
      wabas: [
        {
          id: WABA,
          accessTokens: [TOKEN],
          phoneNumbers: [{ id: PHONE, displayPhoneNumber: '15550783881', throughputMps: 1000 }],
          templates: [
            { name: 'new_promo', language: 'en_US', category: 'marketing', quality: 'UNKNOWN', params: { body: 1, buttons: [1] } },
            { name: 'old_promo', language: 'en_US', category: 'marketing', params: { body: 1, buttons: [1] } },
          ],
        },
      ],
    },
  ],
});

async function setup(verdict: 'release' | 'pause') {
  const rx = await startReceiver();
  const { sim, clock } = makeSim(world(verdict), rx.url);
  cleanups.push(() => sim.close(), rx.close);
  return { rx, sim, clock };
}

describe('template pacing (new marketing template, quality UNKNOWN)', () => {
  it('holds sends past the threshold, then releases them: statuses follow the verdict; a rated template is not paced', async () => {
    const { rx, sim, clock } = await setup('release');
    const answers: any[] = [];
    for (let i = 0; i < 4; i++) answers.push((await send(sim, templateBody(`1650555810${i}`, 'new_promo'))).body.messages[0]);
    expect(answers.map((m) => m.message_status)).toEqual(['accepted', 'accepted', 'held_for_quality_assessment', 'held_for_quality_assessment']);
    expect((await send(sim, templateBody('16505558110', 'old_promo'))).body.messages[0].message_status).toBe('accepted');

    await advance(sim, clock, 1_000);
    const early = new Set(statusesOf(rx.received).map((s) => s.id));
    expect(early.has(answers[0].id) && early.has(answers[1].id)).toBe(true);
    expect(early.has(answers[2].id) || early.has(answers[3].id)).toBe(false);

    await advance(sim, clock, 60_000);
    await advance(sim, clock, 1_000); // the released messages' statuses
    const held = statusesOf(rx.received).filter((s) => s.id === answers[2].id || s.id === answers[3].id);
    expect(held.filter((s) => s.status === 'delivered')).toHaveLength(2);
    // Rated GREEN by the good signal: no longer paced.
    expect((await send(sim, templateBody('16505558120', 'new_promo'))).body.messages[0].message_status).toBe('accepted');
  });

  it('a bad signal drops the held messages (failed, 132015) and pauses the template', async () => {
    const { rx, sim, clock } = await setup('pause');
    const answers: any[] = [];
    for (let i = 0; i < 3; i++) answers.push((await send(sim, templateBody(`1650555820${i}`, 'new_promo'))).body.messages[0]);
    expect(answers[2].message_status).toBe('held_for_quality_assessment');
    await advance(sim, clock, 61_000);
    await advance(sim, clock, 1_000);
    const failed = statusesOf(rx.received).find((s) => s.id === answers[2].id);
    expect(failed).toMatchObject({ status: 'failed', errors: [{ code: 132015 }] });
    const paused = rx.received.flatMap((r) => r.json.entry.flatMap((e) => e.changes)).find((c) => c.field === 'message_template_status_update');
    expect(paused?.value).toMatchObject({ event: 'PAUSED', message_template_name: 'new_promo' });
    const after = await send(sim, templateBody('16505558210', 'new_promo'));
    expect(after.body.error.code).toBe(132015);
  });
});
