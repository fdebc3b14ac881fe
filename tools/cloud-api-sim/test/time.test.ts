import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/index';
import { PHONE, WABA, makeSim, send, startReceiver, templateBody, testScenario, textBody, waitFor } from './helpers';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

describe('time', () => {
  it('timeScale compresses the 24 h service window into real seconds', async () => {
    // 24 h of sim-time in 0.6 s of wall time
    const sim: Simulator = createSimulator({ scenario: testScenario({ timeScale: 144_000, errorDelivery: 'sync' }) });
    cleanups.push(() => sim.close());
    sim.inbound({ phoneNumberId: PHONE, from: '16505558000', text: 'hi' });
    expect((await send(sim, textBody('16505558000'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 700));
    const late = await send(sim, textBody('16505558000'));
    expect(late.status).toBe(400);
    expect(late.body.error.code).toBe(131047);
  });

  it('scripted scenario events fire at their sim-time and change what is enforced', async () => {
    const rx = await startReceiver();
    const { sim, clock } = makeSim(
      {
        events: [
          { type: 'message_template_status_update', atMs: 60_000, wabaId: WABA, name: 'order_update', event: 'DISABLED' },
          { type: 'inbound', atMs: 1000, phoneNumberId: PHONE, from: '16505558001', text: 'Hello' },
        ],
      },
      rx.url,
    );
    cleanups.push(() => sim.close(), rx.close);
    expect((await send(sim, templateBody('16505558002'))).status).toBe(200);
    clock.advance(1000);
    await sim.flush();
    expect(sim.core.isServiceWindowOpen(PHONE, '16505558001')).toBe(true);
    clock.advance(59_000);
    await sim.flush();
    expect((await send(sim, templateBody('16505558003'))).body.error.code).toBe(132016);
    await waitFor(() => rx.received.some((r) => r.json.entry[0]!.changes[0]!.field === 'message_template_status_update'));
  });
});
