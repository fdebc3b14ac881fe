import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { deleteTopics, testInfra, uniqueName, waitFor, TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { topics } from '@wa/shared/topics';
import { migrate } from '../../src/adapters/migrations';
import { loadAnalyticsConfig } from '../../src/config';
import { analyticsTopics, createAnalyticsService, MIGRATIONS_DIR, type AnalyticsService } from '../../src/service';
import { buildFixture, EXPECTED, otherEvents, sentEvents, statusEvents } from '../fixtures/events';

const infra = testInfra();
const prefix = `${uniqueName('an')}.`;
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-int-'));
const database = `wa_${uniqueName('t').replace(/-/g, '_')}`;
const logger = createLogger({ service: 'analytics-test', level: 'warn' });
const kafka = createKafka({ brokers: infra.brokers, clientId: 'analytics-test', logger });
const config = loadAnalyticsConfig({
  KAFKA_BROKERS: infra.brokers.join(','),
  TOPIC_PREFIX: prefix,
  CLICKHOUSE_PATH: dataDir,
  CLICKHOUSE_DATABASE: database,
  RATE_CARD_PATH: 'services/analytics/test/fixtures/rate-card.test.csv',
  ANALYTICS_GROUP_ID: uniqueName('analytics-group'),
  ANALYTICS_BATCH_ROWS: '9',
  ANALYTICS_FLUSH_INTERVAL_MS: '100',
  GAUGE_REFRESH_MS: '600000',
  ROLLUP_REFRESH_MS: '600000',
  LOG_LEVEL: 'warn',
  RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY,
});

let admin: Admin;
let producer: Producer;
let service: AnalyticsService;
let produced = 0;
const fixture = buildFixture();

async function produce(topic: { name: string }, values: (object | Buffer)[]): Promise<void> {
  await producer.send({
    topic: prefix + topic.name,
    acks: -1,
    messages: values.map((v) => ({ key: null, value: Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v)) })),
  });
  produced += values.length;
}

async function settle(): Promise<void> {
  await waitFor(() => service.consumer.committedEvents >= produced, { timeoutMs: 30_000, description: `${produced} events committed` });
  await service.refreshRollups();
}
const q = <T = Record<string, unknown>>(sql: string) => service.store.query<T>(sql);
const n = (v: unknown) => Number(v);

async function totals() {
  const [row] = await q(
    `SELECT sum(spend_micros) AS total, sumIf(spend_micros, pricing_model = 'CBP') AS cbp, sumIf(spend_micros, pricing_model = 'PMP') AS pmp FROM ${database}.v_daily_spend`,
  );
  const [counts] = await q(
    `SELECT (SELECT count() FROM ${database}.v_charges) AS charges, (SELECT count() FROM ${database}.v_messages) AS messages, (SELECT count() FROM ${database}.status_events FINAL) AS statuses, (SELECT count() FROM ${database}.send_attempts FINAL) AS sends`,
  );
  return {
    total: n(row!.total),
    cbp: n(row!.cbp),
    pmp: n(row!.pmp),
    charges: n(counts!.charges),
    messages: n(counts!.messages),
    statuses: n(counts!.statuses),
    sends: n(counts!.sends),
  };
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    [...analyticsTopics('').keys()].map((name) => ({ name })),
    { partitions: 2, retentionMs: 3_600_000, prefix },
  );
  producer = createProducer(kafka);
  await producer.connect();
  service = await createAnalyticsService(config, { logger });
  await service.start();
});

afterAll(async () => {
  await service?.close();
  await producer?.disconnect();
  await deleteTopics(admin, [...analyticsTopics(prefix).keys()]);
  await admin?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('analytics pipeline (real Kafka + embedded ClickHouse)', () => {
  it('writes every topic, with statuses arriving out of order and before their sends', async () => {
    const statuses = statusEvents(fixture.messages).reverse();
    const other = otherEvents();
    await produce(topics.eventsStatus, statuses);
    await produce(topics.messagesSent, sentEvents(fixture.messages));
    await produce(topics.eventsInbound, [other.inbound]);
    await produce(topics.eventsAccount, [other.account]);
    await produce(topics.dispatchDlq, [other.deadLetter]);
    await produce(topics.eventsStatus, [Buffer.from('{not json'), { v: 1, wamid: 'x' }]);
    await settle();
    const t = await totals();
    expect(t.statuses).toBe(statuses.length);
    expect(t.sends).toBe(fixture.messages.length + 1);
    const [inbound] = await q(`SELECT keyword, from_country, from_hash != '' AS hashed FROM ${database}.inbound_messages`);
    expect(inbound).toMatchObject({ keyword: 'STOP', from_country: 'IN' });
    const dead = await q<{ reason: string; service: string }>(`SELECT reason, service FROM ${database}.dead_letters FINAL ORDER BY reason`);
    expect(dead).toEqual([
      { reason: 'invalid_json', service: 'analytics' },
      { reason: 'permanent_error', service: 'dispatcher' },
      { reason: 'schema_violation', service: 'analytics' },
    ]);
    // No full phone number is stored anywhere.
    const [leak] = await q(`SELECT count() AS c FROM ${database}.status_events WHERE recipient_hash LIKE '%9876543210%'`);
    expect(n(leak!.c)).toBe(0);
  });

  it('prices both models to the micro-dollar as computed by hand', async () => {
    const t = await totals();
    expect(t.cbp).toBe(EXPECTED.cbpMicros); // 110,500
    expect(t.pmp).toBe(EXPECTED.pmpHistoricMicros + EXPECTED.recentMicros); // 63,600 + 55,400
    expect(t.total).toBe(EXPECTED.totalMicros); // 229,500
    const units = await q<{ pricing_model: string; billable_n: unknown; free_n: unknown }>(
      `SELECT pricing_model, countIf(billable = 1) AS billable_n, countIf(billable = 0) AS free_n FROM ${database}.v_charges GROUP BY pricing_model ORDER BY pricing_model`,
    );
    expect(units.map((u) => [u.pricing_model, n(u.billable_n), n(u.free_n)])).toEqual([
      ['CBP', EXPECTED.billableUnits.CBP, EXPECTED.freeUnits.CBP],
      ['PMP', EXPECTED.billableUnits.PMP, EXPECTED.freeUnits.PMP],
    ]);
  });

  it('does not change any total when Meta and Kafka deliver everything again, in another order', async () => {
    const before = await totals();
    await produce(topics.eventsStatus, statusEvents(fixture.messages));
    await produce(topics.messagesSent, sentEvents(fixture.messages).reverse());
    await settle();
    expect(await totals()).toEqual(before);
  });

  it('drops a replayed insert batch outright (dedupe token) and the views stay exact', async () => {
    const table = `${database}.charges`;
    // Background merges of the ReplacingMergeTree would collapse duplicates and hide (or fake) the
    // effect under test: stop them while counting the replayed key's rows.
    await service.store.command(`SYSTEM STOP MERGES ${table}`);
    const [raw] = await q(`SELECT count() AS c FROM ${table} WHERE charge_key = 'PMP:wamid.replay'`);
    const rows = [
      {
        charge_key: 'PMP:wamid.replay',
        version: 1,
        pricing_model: 'PMP',
        category: 'marketing',
        country: 'IN',
        billable: 1,
        free_type: '',
        priced_at: '2025-08-06 00:00:00.000',
        rate_micros: 11_800,
        cost_micros: 11_800,
        rate_effective_from: '2025-07-01',
        unpriced: 0,
        wamid: 'wamid.replay',
        job_id: 'job-r',
        phone_number_id: '1',
        waba_id: '1',
        event_at: '2025-08-06 00:00:00.000',
      },
    ];
    await service.store.insertBatch({ charges: rows }, 'replay-token-1');
    await service.store.insertBatch({ charges: rows }, 'replay-token-1');
    const [after] = await q(`SELECT count() AS c FROM ${table} WHERE charge_key = 'PMP:wamid.replay'`);
    await service.store.command(`SYSTEM START MERGES ${table}`);
    expect(n(raw!.c)).toBe(0);
    expect(n(after!.c)).toBe(1);
    // A replay under a different token (different batch boundaries) is absorbed by ReplacingMergeTree.
    await service.store.insertBatch({ charges: rows, rollup_dirty: [{ kind: 'spend', day: '2025-08-06' }] }, 'replay-token-2');
    await service.refreshRollups();
    const t = await totals();
    expect(t.total).toBe(EXPECTED.totalMicros + 11_800);
    await q(`ALTER TABLE ${table} DELETE WHERE charge_key = 'PMP:wamid.replay' SETTINGS mutations_sync = 1`);
    await service.store.insertBatch({ rollup_dirty: [{ kind: 'spend', day: '2025-08-06' }] }, 'replay-token-3');
    await service.refreshRollups();
    expect((await totals()).total).toBe(EXPECTED.totalMicros);
  });

  it('keeps each message in its forward-only state and the delivery-rate view matches a hand count', async () => {
    const states = await q<{ wamid: string; status: string }>(
      `SELECT wamid, status FROM ${database}.v_messages WHERE wamid IN ('wamid.a1', 'wamid.a3', 'wamid.p4', 'wamid.p8') ORDER BY wamid`,
    );
    expect(states).toEqual([
      { wamid: 'wamid.a1', status: 'read' },
      { wamid: 'wamid.a3', status: 'failed' }, // delivered arrived after failed
      { wamid: 'wamid.p4', status: 'read' }, // delivered skipped
      { wamid: 'wamid.p8', status: 'sent' },
    ]);
    const rates = await q(
      `SELECT campaign_id, sum(messages) AS messages, sum(delivered) AS delivered, sum(read) AS read, sum(failed) AS failed, sum(pending) AS pending FROM ${database}.v_delivery_rate_hourly GROUP BY campaign_id ORDER BY campaign_id`,
    );
    for (const row of rates) {
      const e = EXPECTED.campaigns[row.campaign_id as keyof typeof EXPECTED.campaigns];
      expect([n(row.messages), n(row.delivered), n(row.read), n(row.failed), n(row.pending)]).toEqual([e.messages, e.delivered, e.read, e.failed, e.pending]);
    }
    expect(rates).toHaveLength(3);
  });

  it('answers the HTTP API with the same figures', async () => {
    const c1 = await service.app.inject({ method: 'GET', url: '/v1/campaigns/camp-1' });
    expect(c1.statusCode).toBe(200);
    const body = c1.json();
    const e = EXPECTED.campaigns['camp-1'];
    expect(body.requested).toBe(e.requested);
    expect(body.funnel).toMatchObject({ messages: e.messages, delivered: e.delivered, read: e.read, failed: e.failed, pending: e.pending });
    expect(body.funnel.deliveryRate).toBeCloseTo(5 / 6, 10);
    expect(body.cost).toMatchObject({ spendMicros: e.costMicros, spendUsd: '0.110500' });
    expect(body.failuresByReason).toEqual(
      expect.arrayContaining([
        { stage: 'dispatch', outcome: 'rejected', errorCode: 0, reason: 'opted_out', count: 1 },
        { stage: 'webhook', outcome: 'failed', errorCode: 131026, reason: 'Message undeliverable', count: 1 },
      ]),
    );
    const costs = await service.app.inject({ method: 'GET', url: '/v1/stats/costs?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&groupBy=model' });
    expect(costs.json().rows.map((r: { key: string; spendMicros: number }) => [r.key, r.spendMicros])).toEqual([
      ['CBP', EXPECTED.cbpMicros],
      ['PMP', EXPECTED.pmpHistoricMicros],
    ]);
    const byCampaign = await service.app.inject({ method: 'GET', url: '/v1/stats/costs?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&groupBy=campaign' });
    expect(byCampaign.json().rows.map((r: { key: string; spendMicros: number }) => [r.key, r.spendMicros])).toEqual([
      ['camp-1', 110_500],
      ['camp-2', 63_600],
    ]);
    const byType = await service.app.inject({ method: 'GET', url: '/v1/stats/costs?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&groupBy=message_type' });
    expect(byType.json().rows.map((r: { key: string; freeUnits: number; spendMicros: number }) => [r.key, r.freeUnits, r.spendMicros])).toEqual([
      ['interactive', 1, 0],
      ['template', 2, EXPECTED.cbpMicros + EXPECTED.pmpHistoricMicros],
    ]);
    const byTpl = await service.app.inject({ method: 'GET', url: '/v1/stats/costs?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&groupBy=template' });
    expect(byTpl.json().rows.map((r: { key: string; spendMicros: number }) => [r.key, r.spendMicros])).toEqual([
      ['', 0],
      ['tpl_authentication', 6_800],
      ['tpl_marketing', 62_500 + 45_000 + 11_800 + 43_600],
      ['tpl_utility', 4_400],
    ]);
    const delivery = await service.app.inject({ method: 'GET', url: '/v1/stats/delivery?from=2025-08-01T00:00:00Z&to=2025-08-31T00:00:00Z&groupBy=country' });
    expect(delivery.json().rows.map((r: { key: string; delivered: number; failed: number }) => [r.key, r.delivered, r.failed])).toEqual([
      ['BR', 1, 0],
      ['IN', 3, 1],
      ['MX', 2, 0],
    ]);
    const bad = await service.app.inject({ method: 'GET', url: '/v1/stats/delivery?groupBy=recipient&from=yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/groupBy/);
    expect((await service.app.inject({ method: 'GET', url: '/v1/campaigns/nope' })).statusCode).toBe(404);
  });

  it('exports spend and delivery-rate gauges computed from the de-duplicated tables', async () => {
    await service.refreshGauges();
    const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    // MX marketing: 0.0625 (CBP conv-B) + 0.0436 (p4) + 0.0436 (q2)
    expect(text).toMatch(/wa_spend_usd\{category="marketing",country="MX",svc="analytics"\} 0\.1497\b/);
    expect(text).toMatch(/wa_analytics_insert_batch_rows_count\{svc="analytics"\} [1-9]/);
    expect(text).toMatch(/wa_request_to_delivered_seconds_count\{svc="analytics"\} [1-9]/);
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('runs every ready-made query of docs/finance.md against the fixture', async () => {
    const doc = readFileSync('docs/finance.md', 'utf8');
    const queries = new Map([...doc.matchAll(/```sql\n-- name: (\w+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!.replaceAll('wa.', `${database}.`)]));
    expect([...queries.keys()].sort()).toEqual(
      [
        'cost_per_campaign',
        'daily_spend_by_sender',
        'delivery_rate_by_campaign',
        'free_units_by_type',
        'free_vs_billable_share',
        'message_components',
        'spend_by_template_and_type',
        'monthly_spend_by_country_category',
        'monthly_spend_volume_tiered',
        'projection_30d',
        'rates_used',
        'spend_by_regime',
        'top_failure_reasons',
        'unpriced_units',
      ].sort(),
    );
    const run = (name: string) => q(queries.get(name)!);

    const monthly = await run('monthly_spend_by_country_category');
    const march = monthly.filter((r) => String(r.month) === '2025-03-01').map((r) => [r.country, r.category, n(r.spend_micros)]);
    expect(march).toEqual([
      ['FR', 'marketing', 45_000],
      ['IN', 'service', 0],
      ['IN', 'utility', 3_000],
      ['MX', 'marketing', 62_500],
    ]);
    const august = monthly.filter((r) => String(r.month) === '2025-08-01').reduce((s, r) => s + n(r.spend_micros), 0);
    expect(august).toBe(EXPECTED.pmpHistoricMicros);

    const perCampaign = (await run('cost_per_campaign')).map((r) => [r.campaign_id, n(r.spend_micros), Number(r.spend_usd)]);
    expect(perCampaign).toEqual([
      ['camp-1', 110_500, 0.1105],
      ['camp-2', 63_600, 0.0636],
      ['camp-3', 55_400, 0.0554],
    ]);

    const bySender = await run('daily_spend_by_sender');
    expect(bySender.reduce((s, r) => s + n(r.spend_micros), 0)).toBe(EXPECTED.totalMicros);

    const share = (await run('free_vs_billable_share')).map((r) => [
      r.pricing_model,
      n(r.billable_units),
      n(r.free_units),
      Number(r.free_share),
      n(r.spend_micros),
    ]);
    expect(share).toEqual([
      ['CBP', 3, 1, 0.25, 110_500],
      ['PMP', 6, 2, 0.25, 119_000],
    ]);
    const regimes = (await run('spend_by_regime')).map((r) => [r.regime, n(r.billable_units), n(r.free_units), n(r.spend_micros)]);
    // The PMP spend (119,000) splits at 2026-10-01: the fixture's recent messages fall under PMP_2026.
    expect(regimes).toEqual([
      ['CBP', 3, 1, 110_500],
      ['PMP_2025', 4, 2, 63_600],
      ['PMP_2026', 2, 0, 55_400],
    ]);
    const freeTypes = (await run('free_units_by_type')).map((r) => [r.pricing_model, r.free_type, n(r.units)]);
    expect(freeTypes).toEqual([
      ['CBP', 'not_billable', 1],
      ['PMP', 'free_customer_service', 1],
      ['PMP', 'free_entry_point', 1],
    ]);

    const [projection] = await run('projection_30d');
    expect(n(projection!.trailing_7d_micros)).toBe(EXPECTED.recentMicros);
    expect(n(projection!.projected_30d_micros)).toBe(EXPECTED.projected30dMicros); // floor(55,400 × 30 / 7) = 237,428

    const rates = (await run('delivery_rate_by_campaign')).map((r) => [r.campaign_id, n(r.delivered), n(r.failed), Number(r.delivery_rate)]);
    expect(rates).toEqual([
      ['camp-1', 5, 1, 0.8333],
      ['camp-2', 6, 1, 0.8571],
      ['camp-3', 2, 0, 1],
    ]);

    const failures = (await run('top_failure_reasons')).map((r) => [r.stage, r.error_code === undefined ? 0 : n(r.error_code), r.reason, n(r.failures)]);
    expect(failures).toEqual(
      expect.arrayContaining([
        ['dispatch', 0, 'opted_out', 1],
        ['webhook', 131026, 'Message undeliverable', 1],
        ['webhook', 131049, 'Marketing message limit', 1],
        ['dlq:dispatcher', 131026, 'permanent_error', 1],
        ['dlq:analytics', 0, 'invalid_json', 1],
      ]),
    );
    const byTemplate = (await run('spend_by_template_and_type')).map((r) => [r.message_type, r.template, n(r.spend_micros)]);
    expect(byTemplate).toEqual(EXPECTED.byTemplate);
    const components = (await run('message_components')).map((r) => [r.type, r.component, n(r.messages)]);
    expect(components).toEqual(EXPECTED.components);
    expect(await run('unpriced_units')).toEqual([]);
    // The fixture's card has base rates only: re-pricing by tier must give back exactly the PMP spend.
    const tiered = await run('monthly_spend_volume_tiered');
    expect(tiered.length).toBeGreaterThan(0);
    expect(tiered.reduce((s, r) => s + n(r.tiered_cost_micros), 0)).toBe(119_000);
    expect(tiered.every((r) => n(r.volume_discount_micros) === 0 && n(r.tiered_cost_micros) === n(r.base_cost_micros))).toBe(true);
    const used = (await run('rates_used')).map((r) => [r.pricing_model, r.rate_effective_from, r.country, r.category, n(r.rate_micros), n(r.units)]);
    expect(used).toContainEqual(['CBP', '2024-01-01', 'FR', 'marketing', 45_000, 1]);
    expect(used).toContainEqual(['PMP', '2025-07-01', 'MX', 'marketing', 43_600, 2]);
  });

  it('runs the migrations again without error or change', async () => {
    const ch = (service.store as unknown as { ch: Parameters<typeof migrate>[0] }).ch;
    const again = await migrate(ch, { database, dir: MIGRATIONS_DIR });
    expect(again.applied).toEqual([]);
    expect(again.skipped).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await totals()).total).toBe(EXPECTED.totalMicros);
  });
});
