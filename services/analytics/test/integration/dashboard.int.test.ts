import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Admin } from 'kafkajs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignKey } from '@wa/shared/campaigns';
import { createKafka, createProducer, ensureTopics } from '@wa/shared/kafka';
import { createRedis, type Redis } from '@wa/shared/redis';
import { createLogger } from '@wa/shared/logger';
import { findOnPath, requireTool, TOOLS } from '@wa/shared/required-tools';
import { deleteKeysWithPrefix, deleteTopics, testInfra, uniqueName, waitFor, TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { topics } from '@wa/shared/topics';
import type { AccountEventV1, SentEventV1, StatusEventV1 } from '@wa/shared/index';
import { loadAnalyticsConfig } from '../../src/config';
import { analyticsTopics, createAnalyticsService, type AnalyticsService } from '../../src/service';

const chromiumTool = requireTool(TOOLS.chromium);
const infra = testInfra();
const prefix = `${uniqueName('an-dash')}.`;
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-dash-'));
const logger = createLogger({ service: 'analytics-dash-test', level: 'warn' });
const kafka = createKafka({ brokers: infra.brokers, clientId: 'analytics-dash-test', logger });

const PHONES = ['919876543210', '525512345678', '5511987654321', '14155552671', '447400123456', '4915123456789'];
const CATEGORIES = ['marketing', 'utility', 'authentication', 'utility'] as const;

const SENDER = '106540352242922';
const WABA = '102290129340398';

/**
 * Recent traffic over the last 20 hours and the last hour: three campaigns, ~0.6 % failures; six
 * sends in the last seconds (the achieved rate), 24 jobs throttled once with 130429 and 10 with
 * 131056 before they went out (error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 */
function recentTraffic(count: number, now = Date.now()) {
  const sent: SentEventV1[] = [];
  const statuses: StatusEventV1[] = [];
  for (let i = 0; i < count; i++) {
    const t = i % 3 === 0 ? now - (i % 55) * 60_000 - (i % 55 === 0 ? 5_000 : 30_000) : now - (i % 20) * 3_600_000 - 120_000;
    const wamid = `wamid.dash${i}`;
    const jobId = `job-dash-${i}`;
    const category = CATEGORIES[i % 4]!;
    const campaignId = ['spring-sale', 'otp', 'order-updates'][i % 3];
    const throttledWith = i % 40 === 1 ? 130429 : i % 96 === 2 ? 131056 : undefined;
    const common = {
      v: 1 as const,
      jobId,
      requestKey: `req-${i}`,
      campaignId,
      senderPhoneNumberId: SENDER,
      wabaId: WABA,
      recipientHash: `h${i}`,
      recipientCountry: 'IN',
      template: `tpl_${category}`,
      messageType: 'template',
      components: ['body:positional'],
      category,
      lane: category === 'authentication' ? ('auth' as const) : category === 'marketing' ? ('marketing' as const) : ('utility' as const),
      requestedAt: new Date(t - 1_800).toISOString(),
    };
    if (throttledWith !== undefined) {
      sent.push({
        ...common,
        eventId: `${jobId}:t`,
        attempt: 0,
        outcome: 'retry_scheduled',
        httpStatus: throttledWith === 130429 ? 429 : 400,
        errorCode: throttledWith,
        occurredAt: new Date(t - 1_000).toISOString(),
      });
    }
    sent.push({
      ...common,
      eventId: `${jobId}:0`,
      attempt: 0,
      outcome: 'sent',
      httpStatus: 200,
      wamid,
      occurredAt: new Date(t).toISOString(),
    });
    const failed = i % 160 === 5;
    const path = failed ? ['sent', 'failed'] : i % 3 === 0 ? ['sent', 'delivered', 'read'] : ['sent', 'delivered'];
    path.forEach((status, k) => {
      const at = new Date(t + (k + 1) * 1_500).toISOString();
      statuses.push({
        v: 1,
        eventId: `${wamid}:${status}:${Math.floor(Date.parse(at) / 1000)}`,
        wamid,
        status: status as StatusEventV1['status'],
        statusAt: at,
        recipientId: PHONES[i % PHONES.length]!,
        phoneNumberId: '106540352242922',
        wabaId: '102290129340398',
        jobId,
        ...(status === 'failed'
          ? { errors: [{ code: 131026, title: 'Message undeliverable' }] }
          : { pricing: { pricingModel: 'PMP', category, type: i % 10 === 0 ? 'free_customer_service' : 'regular', billable: i % 10 !== 0 } }),
        receivedAt: at,
        deliveryId: `d-${i}-${k}`,
      });
    });
  }
  return { sent, statuses };
}

/**
 * Meta's phone_number_quality_update as the webhook normalises it: the number flagged (rating red),
 * then its throughput raised to 1,000 msg/s, and the portfolio's limit at 10,000 recipients a day.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
 */
function accountEvents(now = Date.now()): AccountEventV1[] {
  const base = { v: 1 as const, kind: 'phone_quality' as const, field: 'phone_number_quality_update', wabaId: WABA, phoneNumberId: SENDER };
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  return [
    {
      ...base,
      eventId: 'acc-limit',
      event: 'UPGRADE',
      messagingLimit: 10_000,
      value: { event: 'UPGRADE', max_daily_conversations_per_business: 10_000 },
      occurredAt: at(300),
      receivedAt: at(300),
      deliveryId: 'd-acc-1',
    },
    {
      ...base,
      eventId: 'acc-tput',
      event: 'THROUGHPUT_UPGRADE',
      throughputMps: 1_000,
      value: { event: 'THROUGHPUT_UPGRADE' },
      occurredAt: at(200),
      receivedAt: at(200),
      deliveryId: 'd-acc-2',
    },
    { ...base, eventId: 'acc-flag', event: 'FLAGGED', value: { event: 'FLAGGED' }, occurredAt: at(100), receivedAt: at(100), deliveryId: 'd-acc-3' },
  ];
}

let admin: Admin;
let redis: Redis;
let service: AnalyticsService;
let browser: Browser | undefined;
let baseUrl = '';

describe('dashboard page in headless Chromium', chromiumTool.options, () => {
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    // spring-sale's record as ingest and the dispatcher keep it: 400 asked for, 330 jobs, 320 sent, paused.
    redis = createRedis(infra.redisUrl);
    await redis.connect();
    const key = campaignKey(prefix, 'spring-sale');
    await redis.hset(key, {
      created: String(Date.now() - 86_400_000),
      'req:r1': 'done',
      audience: '400',
      invalid: '50',
      duplicates: '20',
      jobs: '330',
      'o:sent': '320',
      state: 'paused',
    });
    await redis.expire(key, 3_600);
    await ensureTopics(
      admin,
      [...analyticsTopics('').keys()].map((name) => ({ name })),
      { partitions: 1, retentionMs: 3_600_000, prefix },
    );
    const config = loadAnalyticsConfig({
      KAFKA_BROKERS: infra.brokers.join(','),
      REDIS_URL: infra.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      TOPIC_PREFIX: prefix,
      CLICKHOUSE_PATH: dataDir,
      CLICKHOUSE_DATABASE: 'wa_dash',
      ANALYTICS_GROUP_ID: uniqueName('an-dash'),
      ANALYTICS_FLUSH_INTERVAL_MS: '100',
      DASHBOARD_REFRESH_MS: '1000',
      ROLLUP_REFRESH_MS: '600000',
      LOG_LEVEL: 'warn',
      RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY,
    });
    service = await createAnalyticsService(config, { logger });
    await service.start();
    const { sent, statuses } = recentTraffic(960);
    const account = accountEvents();
    const producer = createProducer(kafka);
    await producer.connect();
    for (const [topic, values] of [
      [topics.messagesSent, sent],
      [topics.eventsStatus, statuses],
      [topics.eventsAccount, account],
    ] as const) {
      for (let i = 0; i < values.length; i += 500) {
        await producer.send({ topic: prefix + topic.name, acks: -1, messages: values.slice(i, i + 500).map((v) => ({ value: JSON.stringify(v) })) });
      }
    }
    await producer.disconnect();
    await waitFor(() => service.consumer.committedEvents >= sent.length + statuses.length + account.length, {
      timeoutMs: 30_000,
      description: 'traffic written',
    });
    await service.refreshRollups();
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: findOnPath('chromium'),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await deleteTopics(admin, [...analyticsTopics(prefix).keys()]);
    await admin?.disconnect();
    if (redis) await deleteKeysWithPrefix(redis, prefix);
    await redis?.quit();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('renders the charts from the API with the chart library served locally, and saves a screenshot', async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 1100 } });
    const failedRequests: string[] = [];
    const pageErrors: string[] = [];
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(baseUrl, { waitUntil: 'load' });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });

    const api = (await (await fetch(`${baseUrl}/v1/dashboard`)).json()) as {
      funnel: { messages: number; failed: number; deliveryRate: number };
      campaigns: unknown[];
    };
    expect(api.funnel.messages).toBe(960);
    expect(api.funnel.failed).toBe(6);
    expect(await page.textContent('#t-messages')).toBe('960');
    expect(await page.textContent('#t-failed')).toBe('6');
    expect(await page.textContent('#t-rate')).toBe(`${(api.funnel.deliveryRate * 100).toFixed(2)}%`);
    expect(await page.getAttribute('#t-rate', 'class')).toContain('good');

    const charts = await page.evaluate(() => {
      const g = (globalThis as unknown as { Chart: { getChart(id: string): { data: { datasets: { data: unknown[] }[] } } | undefined } }).Chart;
      return ['c-throughput', 'c-funnel', 'c-rate', 'c-cost-category', 'c-cost-country'].map((id) => {
        const c = g.getChart(id);
        return { id, points: c ? c.data.datasets.reduce((n, d) => n + d.data.length, 0) : -1 };
      });
    });
    for (const c of charts) expect(c.points, c.id).toBeGreaterThan(0);
    const target = await page.evaluate(() => {
      const g = (globalThis as unknown as { Chart: { getChart(id: string): { data: { datasets: { label: string; data: number[] }[] } } } }).Chart;
      return g.getChart('c-rate').data.datasets.find((d) => d.label === '99% target')?.data[0];
    });
    expect(target).toBe(99);
    expect(await page.locator('#campaigns tbody tr').count()).toBe(3);
    // Cost per message type and template: every row of the API on the page, with its amount.
    const costByMessage = (api as unknown as { costByMessage: { messageType: string; template: string; spendUsd: string }[] }).costByMessage;
    expect(costByMessage.map((r) => r.template).sort()).toEqual(['tpl_authentication', 'tpl_marketing', 'tpl_utility']);
    const costRows = await page
      .locator('#cost-message tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(costRows.map((r) => [r[0], r[1], r[4]])).toEqual(costByMessage.map((r) => ['template', r.template, r.spendUsd]));
    // spring-sale has a campaign record: its state, audience and progress come from it; the others have none,
    // so their progress is of the 320 jobs analytics saw (columns: id, state, audience, progress, unsent, …, cancelled).
    const cells = (id: string) => page.locator('#campaigns tbody tr', { hasText: id }).locator('td').allTextContents();
    const spring = await cells('spring-sale');
    expect(spring.slice(0, 5)).toEqual(['spring-sale', 'paused', '400', '96.97% of 330', '10']);
    const otp = await cells('otp');
    expect(otp.slice(0, 5)).toEqual(['otp', 'no record', '–', '100.00% of 320 seen', '–']);
    expect(otp[9]).toBe('0');

    // Per sender: the six sends of the last seconds over 60 s, the throttled attempts, and what the account webhooks said.
    const senders = (api as unknown as { senders: Record<string, unknown>[] }).senders;
    expect(senders).toEqual([
      {
        sender: SENDER,
        wabaId: WABA,
        achievedMps: 0.1,
        allowedMps: 1000,
        quality: 'RED',
        messagingLimit: 10_000,
        recipients24h: 960,
        portfolioRecipients24h: 960,
        limitUse: 0.096,
        throttled130429: 24,
        pairLimited131056: 10,
      },
    ]);
    expect(await page.locator('#senders tbody tr td').allTextContents()).toEqual([SENDER, '0.10', '1,000', 'RED', '9.60% (960 / 10,000)', '24 / 10']);
    expect(await page.textContent('#s-senders')).toContain('last 60 s');
    expect(await page.textContent('#s-funnel')).toContain('last 24 h');
    expect(await page.textContent('#s-campaigns')).toContain('whole life');
    // The donut's legend carries the amounts, not only the proportions.
    const donutLabels = await page.evaluate(() => {
      const g = (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart;
      return g.getChart('c-cost-category').data.labels;
    });
    expect(donutLabels.length).toBeGreaterThan(0);
    for (const label of donutLabels) expect(label).toMatch(/^[a-z_]+ \$\d+\.\d{2} · [\d,]+ billable$/);
    expect(failedRequests).toEqual([]);
    expect(pageErrors).toEqual([]);

    // The picture in docs/analytics.md is refreshed on request only, so a test run leaves the work tree as it was.
    const shotDir = process.env.UPDATE_DOCS_SCREENSHOT === '1' ? 'docs/img' : mkdtempSync(join(tmpdir(), 'dashboard-shot-'));
    mkdirSync(shotDir, { recursive: true });
    const shot = join(shotDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });
});
