import { afterEach, describe, expect, it } from 'vitest';
import { WABA, advance, makeSim, send, startReceiver, templateBody } from './helpers';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
describe('account ban (account_update DISABLED_UPDATE)', () => {
  it('locks the account’s sends (131031, HTTP 403) until Meta reinstates it', async () => {
    const rx = await startReceiver();
    const { sim, clock } = makeSim({}, rx.url);
    cleanups.push(() => sim.close(), rx.close);
    const ban = (state: string) =>
      sim.app.inject({
        method: 'POST',
        url: '/_sim/events/account_update',
        payload: { wabaId: WABA, value: { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: state } } },
      });
    expect((await ban('DISABLE')).statusCode).toBe(200);
    const locked = await send(sim, templateBody('16505558300'));
    expect(locked.status).toBe(403);
    expect(locked.body.error.code).toBe(131031);
    await ban('REINSTATE');
    expect((await send(sim, templateBody('16505558301'))).status).toBe(200);
    await advance(sim, clock, 100);
    const posted = rx.received.flatMap((r) => r.json.entry.flatMap((e) => e.changes)).filter((c) => c.field === 'account_update');
    expect(posted.map((c) => (c.value.ban_info as { waba_ban_state: string }).waba_ban_state)).toEqual(['DISABLE', 'REINSTATE']);
  });
});
