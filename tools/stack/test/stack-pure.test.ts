import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogFile, normalisePhone } from '@wa/shared';
import { parseScenario } from '@wa/cloud-api-sim';
import { scenarioFromCatalog } from '../src/scenario-from-catalog';
import { generateAudience, toCsv } from '../src/demo/audience';
import { renderProgress } from '../src/demo/progress';
import { demoPlan } from '../src/demo/run-demo';
import { DEMO_LAUNCH_TEMPLATE, replyToTap } from '../src/demo/responder';
import { createSimulator } from '@wa/cloud-api-sim';
import { notificationRequestV1 } from '@wa/shared/contracts/notification-request';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import { createManualClock } from '@wa/shared/clock';

const catalog = loadCatalogFile(resolve(__dirname, '../../../config/catalog.demo.json'));

describe('scenarioFromCatalog', () => {
  const tokens = new Map(catalog.businesses.map((b) => [b.wabaId, `EAAGtoken-${b.wabaId}`]));

  it("produces a scenario the simulator accepts, with the catalogue's numbers, limits and templates", () => {
    const scenario = parseScenario(scenarioFromCatalog(catalog, { appSecret: 'app-secret-123', accessTokens: tokens }));
    const numbers = scenario.businesses.flatMap((b) => b.wabas.flatMap((w) => w.phoneNumbers));
    expect(numbers.map((n) => [n.id, n.throughputMps])).toEqual(catalog.phoneNumbers.map((n) => [n.id, n.throughputMps]));
    expect(scenario.businesses.map((b) => [b.id, b.messagingLimit])).toEqual([
      ['portfolio-acme', 100000],
      ['portfolio-bistro', 10000],
    ]);
    const otp = scenario.businesses[0]!.wabas[0]!.templates.find((t) => t.name === 'otp_code')!;
    expect(otp.params).toEqual({ header: 0, body: 1, buttons: [1] });
    expect(scenario.appSecret).toBe('app-secret-123');
  });

  it('keeps an unlimited messaging limit unlimited (regression: null became 250)', () => {
    const bench = loadCatalogFile(resolve(__dirname, '../../../config/catalog.bench.json'));
    const benchTokens = new Map(bench.businesses.map((b) => [b.wabaId, `EAAGtoken-${b.wabaId}`]));
    const scenario = parseScenario(scenarioFromCatalog(bench, { appSecret: 'app-secret-123', accessTokens: benchTokens }));
    expect(scenario.businesses.map((b) => b.messagingLimit)).toEqual(['unlimited']);
  });

  it("the demo's image-header launch template with a quick reply: accepted by the simulator as the demo sends it, tapped, answered", async () => {
    const input = scenarioFromCatalog(catalog, {
      appSecret: 'app-secret-123',
      accessTokens: tokens,
      templates: [DEMO_LAUNCH_TEMPLATE],
      population: {
        replyFraction: 1,
        stopFraction: 0,
        notOnWhatsAppFraction: 0,
        optedOutMarketingFraction: 0,
        experimentFraction: 0,
        replyDelayMs: [500, 4000],
      },
    });
    const launch = parseScenario(input).businesses[0]!.wabas[0]!.templates.find((t) => t.name === 'spring_launch')!;
    expect(launch.components?.map((c) => c.type)).toEqual(['HEADER', 'BODY', 'FOOTER', 'BUTTONS']);
    const sale = demoPlan(1_000).campaigns[0]!.request('/tmp/a.csv') as { template: Record<string, unknown> };
    expect(sale.template).toMatchObject({ name: 'spring_launch', header: { type: 'image' }, buttonParams: [{ subType: 'quick_reply' }] });

    // The send the dispatcher makes for it (Meta's shape), and the tap the simulated person answers with.
    const clock = createManualClock(Date.now());
    const sim = createSimulator({ scenario: input, clock });
    const taps: Record<string, unknown>[] = [];
    sim.core.webhookUrl = undefined;
    const post = sim.core.post.bind(sim.core);
    sim.core.post = (waba, field, value, ...rest) => {
      const m = (value as { messages?: Record<string, unknown>[] }).messages?.[0];
      if (m) taps.push(m);
      return post(waba, field, value, ...rest);
    };
    const res = await sim.app.inject({
      method: 'POST',
      url: '/v24.0/106540352242922/messages',
      headers: { authorization: 'Bearer EAAGtoken-102290129340398' },
      payload: {
        messaging_product: 'whatsapp',
        to: '919800000001',
        type: 'template',
        template: {
          name: 'spring_launch',
          language: { code: 'en_US' },
          components: [
            { type: 'header', parameters: [{ type: 'image', image: { link: 'https://media.example.com/spring-launch.jpg' } }] },
            { type: 'body', parameters: [{ type: 'text', text: '20%' }] },
            { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'spring-offers' }] },
          ],
        },
      },
    });
    expect(res.statusCode).toBe(200);
    for (let i = 0; i < 40 && taps.length === 0; i++) {
      clock.advance(5_000);
      sim.core.tick();
    }
    await sim.close();
    expect(taps[0]).toMatchObject({ type: 'button', context: { id: res.json().messages[0].id } });

    // The product's answer: interactive reply buttons in the window the tap opened, as a reply to it.
    const tap = { type: 'button', wamid: 'wamid.TAP', from: '919800000001', phoneNumberId: '106540352242922' } as InboundEventV1;
    const reply = notificationRequestV1.parse(replyToTap(tap, 'demo-replies-x'));
    expect(reply).toMatchObject({ replyTo: 'wamid.TAP', to: '919800000001', content: { type: 'interactive', interactive: { type: 'button' } } });
    expect(replyToTap({ ...tap, type: 'text' }, 'demo-replies-x')).toBeUndefined();
  });

  it('refuses a catalogue business without an access token', () => {
    expect(() => scenarioFromCatalog(catalog, { appSecret: 'app-secret-123', accessTokens: new Map() })).toThrow(/no access token/);
  });
});

describe('demo audience', () => {
  it('is deterministic and has the requested size, invalid entries and duplicates', () => {
    const a = generateAudience({ size: 5000, seed: 1, invalidFraction: 0.01, duplicateFraction: 0.01 });
    const b = generateAudience({ size: 5000, seed: 1, invalidFraction: 0.01, duplicateFraction: 0.01 });
    expect(a.rows).toEqual(b.rows);
    expect(a.rows).toHaveLength(5000);
    expect(a.invalid).toBeGreaterThan(20);
    expect(a.duplicates).toBeGreaterThan(20);
    expect(a.validDistinct.size + a.invalid + a.duplicates).toBe(5000);
    const valid = a.rows.filter((r) => normalisePhone(r.phone).ok);
    expect(new Set(valid.map((r) => normalisePhone(r.phone).ok && (normalisePhone(r.phone) as { waId: string }).waId)).size).toBe(a.validDistinct.size);
    expect(toCsv(a.rows.slice(0, 2)).split('\n')[0]).toBe('phone,name');
  });
});

describe('demo plan and progress', () => {
  it('covers exactly the requested number of recipients', () => {
    const plan = demoPlan(20_000);
    expect(plan.campaigns.reduce((n, c) => n + c.recipients, 0) + plan.otps).toBe(20_000);
  });
  it('renders every line of the accounting, and rates against the paced target and limit', () => {
    const lines = renderProgress({
      elapsedMs: 12_000,
      scope: 'this run',
      expanded: true,
      requested: 1000,
      duplicates: 10,
      invalid: 10,
      refusedByUs: 5,
      acceptedByMeta: 600,
      refusedByMeta: 2,
      unknown: 0,
      pending: 373,
      delivered: 500,
      read: 250,
      failedAfterAcceptance: 10,
      awaitingStatus: 90,
      senders: [{ id: '1', label: '+15550783881', rate: 240, target: 238, limit: 250 }],
      throttled: 0,
      spendUsd: 1.23456,
    });
    expect(lines[0]).toContain('12 s — scope: this run');
    expect(lines.find((l) => l.includes('accepted by Meta'))).toMatch(/600\s+delivered 500 \(read 250\), failed after 10, awaiting status 90/);
    expect(lines.find((l) => l.includes('pending'))).toMatch(/373/);
    expect(lines.find((l) => l.includes('+15550783881'))).toMatch(/240 \/ {2}238 \/ 250/);
    expect(lines.at(-1)).toContain('$1.2346');
  });
});
