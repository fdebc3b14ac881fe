import { describe, expect, it } from 'vitest';
import type { TemplateRef } from '@wa/shared/contracts/common';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { RedisTemplateStore } from '@wa/shared/templates/store';
import { waitFor } from '@wa/shared/testing';
import { Harness, job, recipient, WABA, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

// The simulator serves GET /{waba-id}/message_templates and checks sends against the components as
// Meta does (developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates,
// developers.facebook.com/docs/whatsapp/cloud-api/reference/messages); the dispatcher syncs the templates
// into the store and enforces them without a restart.
const SUMMER = {
  name: 'summer_launch',
  language: 'en_US',
  category: 'marketing' as const,
  components: [
    { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1n'] } },
    { type: 'BODY', text: 'Hi {{1}}, the summer range is {{2}} off.' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Tell me more' },
        { type: 'URL', text: 'Shop', url: 'https://shop.example/{{1}}' },
      ],
    },
  ],
};

const summer = (over: Partial<TemplateRef> = {}) => ({
  type: 'template' as const,
  template: {
    name: 'summer_launch',
    language: 'en_US',
    category: 'marketing' as const,
    header: { type: 'image' as const, image: { link: 'https://cdn.example/summer.jpg' } },
    bodyParams: ['Ann', '20%'],
    buttonParams: [
      { index: 0, subType: 'quick_reply' as const, text: 'summer-more' },
      { index: 1, subType: 'url' as const, text: 'summer' },
    ],
    ...over,
  },
});

describe('templates synced from the simulator (real Kafka, Redis, simulator)', () => {
  it('sends rich templates as Meta has them and follows changes made at Meta without a restart', async () => {
    h = new Harness();
    await h.setup(1);
    const w = world([{ id: '1001', mps: 80 }]);
    w.scenario.businesses![0]!.wabas[0]!.templates!.push(SUMMER as never);
    await h.startSim(w.scenario);
    const keys = createRedisKeys(h.redisPrefix);
    const store = new RedisTemplateStore(h.redis, keys);
    // The catalogue declares order_update etc. only; summer_launch is known from the sync alone.
    const dispatcher = await dispatchers.start(h, w.catalog, { TEMPLATE_SYNC_INTERVAL_MS: '60000', TEMPLATE_REFRESH_MS: '60000' });
    const stored = await store.load([WABA]);
    expect(stored[0]!.templates.map((t) => t.name).sort()).toEqual(['order_update', 'otp_code', 'promo_offer', 'summer_launch']);

    const outcomeOf = async (j: ReturnType<typeof job>) => {
      await h!.produce([j]);
      // A refusal's dead letter goes out with its event but on another topic: wait for both.
      await waitFor(() => h!.terminal(j.jobId).some((e) => e.outcome !== 'rejected' || h!.dlq.some((d) => d.jobId === j.jobId)), {
        timeoutMs: 20_000,
        description: `outcome of ${j.jobId}`,
      });
      return { event: h!.terminal(j.jobId)[0]!, dlq: h!.dlq.find((d) => d.jobId === j.jobId) };
    };
    const marketing = (to: string, message: ReturnType<typeof summer>) => job({ to, lane: 'marketing', category: 'marketing', message });

    // 1. The image-header template with a quick reply and a URL suffix is accepted by the simulator.
    const ok = await outcomeOf(marketing(recipient(1), summer()));
    expect(ok.event).toMatchObject({ outcome: 'sent', template: 'summer_launch', category: 'marketing', messageType: 'template' });
    // Analytics gets the structure of the real template (both buttons, though only the URL takes a parameter), no values.
    expect(ok.event.components).toEqual(['body:positional', 'button:quick_reply', 'button:url', 'header:image']);
    const atSim = await (await fetch(`${h.simUrl}/_sim/messages/${ok.event.wamid}`)).json();
    expect(atSim).toMatchObject({ template: 'summer_launch', failCode: null });

    // 2. A request that does not fit the real structure never reaches Meta, and says why.
    const bad = await outcomeOf(marketing(recipient(2), summer({ header: undefined, headerParams: ['Summer'] })));
    expect(bad.event.outcome).toBe('rejected');
    expect(bad.dlq).toMatchObject({ reason: 'template_params_mismatch' });
    expect(bad.dlq!.detail).toContain('header: template header is IMAGE, got text');

    // 3. A new body parameter at Meta: announced by a template webhook (the webhook service publishes
    //    it on the account-changes channel), synced, enforced.
    const put = (body: Record<string, unknown>) =>
      fetch(`${h!.simUrl}/_sim/templates`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ wabaId: WABA, language: 'en_US', ...body }),
      });
    const announce = () => h!.redis.publish(keys.accountChangesChannel(), JSON.stringify({ kind: 'template_status', wabaId: WABA }));
    const synced = async (
      check: (t: Record<string, unknown>) => boolean,
      inDispatcher: (t: NonNullable<ReturnType<typeof dispatcher.templates.get>>) => boolean,
      what: string,
    ) => {
      await announce();
      await waitFor(
        async () => {
          const t = (await store.load([WABA]))[0]?.templates.find((x) => x.name === 'summer_launch') as Record<string, unknown> | undefined;
          return t !== undefined && check(t);
        },
        { timeoutMs: 10_000, description: what },
      );
      // The dispatcher re-reads the store on the store's own announcement.
      await waitFor(
        () => {
          const t = dispatcher.templates.get(WABA, 'summer_launch', 'en_US');
          return t !== undefined && inDispatcher(t);
        },
        { timeoutMs: 10_000, description: `${what} (in the dispatcher)` },
      );
    };
    expect(
      (
        await put({
          name: 'summer_launch',
          components: [SUMMER.components[0], { type: 'BODY', text: 'Hi {{1}}, the summer range is {{2}} off until {{3}}.' }, SUMMER.components[2]],
        })
      ).status,
    ).toBe(200);
    await synced(
      (t) => JSON.stringify(t.components).includes('{{3}}'),
      (t) => t.body.length === 3,
      'the new parameter synced',
    );
    const stale = await outcomeOf(marketing(recipient(3), summer()));
    expect(stale.dlq?.detail).toContain('bodyParams: body takes 3 parameters, got 2');
    expect((await outcomeOf(marketing(recipient(4), summer({ bodyParams: ['Ann', '20%', 'Sunday'] })))).event.outcome).toBe('sent');

    // 4. Re-categorised at Meta: the dispatcher sends (and bills) it as the new category.
    await put({ name: 'summer_launch', category: 'utility' });
    await synced(
      (t) => t.category === 'UTILITY',
      (t) => t.category === 'utility',
      'the new category synced',
    );
    expect((await outcomeOf(marketing(recipient(5), summer({ bodyParams: ['Ann', '20%', 'Sunday'] })))).event).toMatchObject({
      outcome: 'sent',
      category: 'utility',
    });

    // 5. Paused at Meta: refused before sending.
    await put({ name: 'summer_launch', status: 'PAUSED' });
    await synced(
      (t) => t.status === 'PAUSED',
      (t) => t.status === 'PAUSED',
      'the pause synced',
    );
    const paused = await outcomeOf(marketing(recipient(6), summer({ bodyParams: ['Ann', '20%', 'Sunday'] })));
    expect(paused.dlq).toMatchObject({ reason: 'template_not_approved' });
    expect(h.simStats().rejectedByCode?.['132015']).toBeUndefined();
  });
});
