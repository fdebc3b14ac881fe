import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '@wa/shared/clock';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { RedisState } from '../../../webhook/src/adapters/redis-state';
import { normaliseWebhook } from '../../../webhook/src/domain/normalise';
import { accountChanges } from '../../../webhook/src/domain/state-changes';
import { Harness, job, recipient, WABA, world } from './harness';
import { inProcessDispatchers } from './in-process';

/**
 * Account-level webhooks that act, from Meta's payload to the send decision: the contract corpus's
 * payload → the webhook service's normaliser and Redis writer → the dispatcher.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/template_category_update
 */
const FIXTURES = resolve(import.meta.dirname, '../../../..', 'shared', 'test/fixtures/meta');
const ADMIN = { authorization: 'Bearer admin-secret-token' };

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

/** Applies a corpus payload as the webhook service does, addressed to the test's business account. */
async function deliver(harness: Harness, fixture: string): Promise<void> {
  const { payload } = JSON.parse(readFileSync(join(FIXTURES, fixture), 'utf8')) as { payload: { entry: { id: string }[] } };
  for (const entry of payload.entry) entry.id = WABA;
  const out = normaliseWebhook(payload, { deliveryId: `d-${fixture}`, receivedAt: new Date().toISOString() });
  expect(out.invalid).toEqual([]);
  const state = new RedisState(harness.redis, createRedisKeys(harness.redisPrefix), { dedupeTtlS: 60, clock: systemClock });
  const result = await state.apply(out.account.flatMap((e) => accountChanges(e)));
  expect(result.applied).toBeGreaterThan(0);
}

interface SenderView {
  phoneNumberId: string;
  standing: { holds: string[]; ban?: { state: string } };
}

describe('account_update bans and restrictions act', () => {
  it('a banned account: sends held (deferred, not failed), seen in GET /v1/senders and the gauge; reinstated: sends resume', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 80 }]);
    await h.startSim(w.scenario);
    await deliver(h, 'account-update-disabled.json');
    const service = await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });
    const sender = async () =>
      ((await service.app.inject({ url: '/v1/senders', headers: ADMIN })).json() as { senders: SenderView[] }).senders.find((s) => s.phoneNumberId === '1001')!;
    const metrics = async () => (await service.app.inject({ url: '/metrics' })).body;

    expect((await sender()).standing).toMatchObject({ holds: ['banned'], ban: { state: 'DISABLE' } });
    const held = job({ to: recipient(1) });
    await h.produce([held]);
    let text = '';
    await waitFor(async () => /wa_dispatch_deferred_total\{reason="account_banned"[^}]*\} [1-9]/.test((text = await metrics())), {
      timeoutMs: 30_000,
      description: () =>
        `the job deferred as account_banned; ${text
          .split('\n')
          .filter((l) => /deferred|standing/.test(l))
          .join(' | ')} sent=${JSON.stringify(h!.sent)}`,
    });
    await waitFor(async () => /wa_account_standing_hold\{waba="[^"]+",hold="banned"[^}]*\} 1/.test(await metrics()), {
      timeoutMs: 15_000,
      description: 'wa_account_standing_hold{hold="banned"} 1',
    });
    expect(h.terminal(held.jobId)).toEqual([]);
    expect(h.dlq.some((d) => d.jobId === held.jobId)).toBe(false);
    expect(h.sent.some((e) => e.jobId === held.jobId && e.outcome === 'failed')).toBe(false);

    // Meta reinstates the account (a newer DISABLED_UPDATE with waba_ban_state REINSTATE).
    await deliver(h, 'account-update-reinstated.json');
    await waitFor(async () => (await sender()).standing.holds.length === 0, { timeoutMs: 10_000, description: 'no hold in GET /v1/senders' });
    const after = job({ to: recipient(2) });
    await h.produce([after]);
    await waitFor(() => h!.terminal(after.jobId).length > 0, { timeoutMs: 30_000, description: 'a send after the reinstatement' });
    expect(h.terminal(after.jobId)[0]!.outcome).toBe('sent');
  });
});

describe('template_category_update acts from its effective time', () => {
  it('a utility template re-categorised as marketing goes out as marketing; GET /v1/templates shows the change and the quality score', async () => {
    h = new Harness();
    await h.setup();
    const w = world([{ id: '1001', mps: 80 }]);
    await h.startSim(w.scenario);
    // Completed utility → marketing change of order_update (in force since the webhook's time, in the past).
    await deliver(h, 'template-category-update-completed.json');
    // https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_quality_update
    await deliver(h, 'message-template-quality-update.json');
    const service = await dispatchers.start(h, w.catalog, { SENDER_SYNC_INTERVAL_MS: '0' });
    const templates = (await service.app.inject({ url: '/v1/templates', headers: ADMIN })).json() as { templates: Record<string, unknown>[] };
    expect(templates.templates.find((t) => t.name === 'order_update')).toMatchObject({
      category: 'marketing',
      categoryChange: { from: 'utility', to: 'marketing', kind: 'completed' },
    });
    expect(templates.templates.find((t) => t.name === 'promo_offer')).toMatchObject({ quality: { score: 'YELLOW', previous: 'GREEN' } });
    const j = job({ to: recipient(3) }); // order_update, declared utility in the catalogue
    await h.produce([j]);
    await waitFor(() => h!.terminal(j.jobId).length > 0, { timeoutMs: 30_000, description: 'the send' });
    expect(h.terminal(j.jobId)[0]).toMatchObject({ outcome: 'sent', category: 'marketing', template: 'order_update' });
  });
});
