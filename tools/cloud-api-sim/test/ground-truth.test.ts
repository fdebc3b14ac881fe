import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/index';
import { PHONE, TOKEN, makeSim, send, templateBody, testScenario } from './helpers';

let sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

describe('ground truth under /_sim/', () => {
  it('counts accepted/rejected by code and number, and lists duplicate sends by callback data', async () => {
    const { sim } = makeSim({ rules: { pairRate: { burst: 5, intervalMs: 1000 } } });
    sims.push(sim);
    const a = await send(sim, templateBody('16505557000', 'order_update', { biz_opaque_callback_data: 'job-A' }));
    await send(sim, templateBody('16505557001', 'order_update', { biz_opaque_callback_data: 'job-B' }));
    const a2 = await send(sim, templateBody('16505557000', 'order_update', { biz_opaque_callback_data: 'job-A' }));
    await send(sim, templateBody('16505557002', 'nope'));
    const st = (await sim.app.inject({ url: '/_sim/stats' })).json();
    expect(st.accepted).toBe(3);
    expect(st.rejectedByCode).toEqual({ '132001': 1 });
    expect(st.phoneNumbers[PHONE]).toMatchObject({ requests: 4, accepted: 3, rejectedByCode: { '132001': 1 } });
    expect(st.duplicateSends.count).toBe(1);
    expect(st.duplicateSends.items).toEqual([{ bizOpaqueCallbackData: 'job-A', count: 2, wamids: [a.body.messages[0].id, a2.body.messages[0].id] }]);

    const reset = await sim.app.inject({ method: 'POST', url: '/_sim/reset' });
    expect(reset.statusCode).toBe(200);
    const after = (await sim.app.inject({ url: '/_sim/stats' })).json();
    expect(after.accepted).toBe(0);
    expect(after.duplicateSends.count).toBe(0);
    expect((await sim.app.inject({ url: `/_sim/messages/${encodeURIComponent(a.body.messages[0].id)}` })).statusCode).toBe(404);
  });

  it('serves Meta’s surface and /_sim/ on a real port with keep-alive clients', async () => {
    const sim = createSimulator({ scenario: testScenario() });
    sims.push(sim);
    const url = await sim.start(0);
    const res = await request(`${url}/v22.0/${PHONE}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(templateBody('16505557100')),
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { messages: { id: string }[] };
    const m = await request(`${url}/_sim/messages/${encodeURIComponent(body.messages[0]!.id)}`);
    expect(await m.body.json()).toMatchObject({ phoneNumberId: PHONE, to: '16505557100', template: 'order_update', category: 'utility' });
    const w = await request(`${url}/_sim/world`);
    expect(((await w.body.json()) as { businesses: unknown[] }).businesses).toHaveLength(1);
    const bad = await request(`${url}/v22.0/${PHONE}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { code: number } }).error.code).toBe(100);
  });
});
