import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../src/scenario';
import { makeSim, send, startReceiver, templateBody } from './helpers';

/**
 * Meta retries a webhook its receiver did not acknowledge with decreasing frequency for up to 7
 * days (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/overview);
 * the simulator does the same on its clock (a manual one here, scaled in the stack).
 */
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('webhook retries like Meta', () => {
  it('by default retries an unacknowledged delivery, less and less often, for 7 days, then gives up', async () => {
    const retry = parseScenario({}).webhooks.retry;
    expect(retry.maxAgeMs).toBe(7 * DAY);
    const rx = await startReceiver(() => 500);
    const { sim, clock } = makeSim(
      { webhooks: { retry, delaysMs: { sent: [10, 10], delivered: [10, 10], read: [10, 10] } }, population: { readFraction: 0 } },
      rx.url,
    );
    cleanups.push(() => sim.close(), rx.close);
    await send(sim, templateBody('16505558000'));
    const attemptsAt: number[] = [];
    let last = 0;
    const start = clock.now();
    // An hour at a time for 8 days (sim time), in steps short enough for every retry to run when due.
    for (let t = 0; t < 8 * DAY; t += HOUR / 8) {
      clock.advance(HOUR / 8);
      await sim.flush();
      if (rx.attempts() > last) {
        for (let k = last; k < rx.attempts(); k++) attemptsAt.push(clock.now() - start);
        last = rx.attempts();
      }
    }
    const stats = (sim.stats() as { webhooks: { abandoned: number; pending: number } }).webhooks;
    // Several deliveries (sent, delivered) each retried: look at the first one's spacing through the abandoned list.
    const abandoned = (await sim.app.inject({ url: '/_sim/webhooks/abandoned' })).json() as { attempts: number; firstAt: number }[];
    expect(abandoned.length).toBeGreaterThan(0);
    expect(stats.pending).toBe(0);
    const first = abandoned[0]!;
    expect(first.attempts).toBeGreaterThan(150); // hourly at the end: ~180 attempts in 7 days
    const lastAttemptAfter = attemptsAt[attemptsAt.length - 1]!;
    expect(lastAttemptAfter).toBeGreaterThan(7 * DAY - 2 * HOUR);
    expect(lastAttemptAfter).toBeLessThan(7 * DAY + 2 * HOUR);
    // Decreasing frequency: the first retries come within seconds, the late ones an hour apart.
    expect(attemptsAt.filter((t) => t < HOUR).length).toBeGreaterThan(attemptsAt.filter((t) => t >= 6 * DAY && t < 6 * DAY + HOUR).length);
  });
});
