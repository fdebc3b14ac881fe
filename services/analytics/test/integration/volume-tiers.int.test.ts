import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '@wa/shared/clickhouse';
import { createLogger } from '@wa/shared/logger';
import type { AccountEventV1 } from '@wa/shared/contracts/events';
import { uniqueName } from '@wa/shared/testing';
import { Registry } from 'prom-client';
import { ClickHouseStore } from '../../src/adapters/clickhouse-store';
import { EventBuffer } from '../../src/adapters/event-buffer';
import { createLatencyTracker } from '../../src/domain/latency-tracker';
import { createRateCard } from '../../src/domain/rate-card';
import { accountRow, createRowMapper } from '../../src/domain/rows';
import { volumeTierRow } from '../../src/domain/volume-tier';
import { createAnalyticsMetrics } from '../../src/metrics';
import { migrate, readMigrations } from '../../src/adapters/migrations';
import { createRollups } from '../../src/adapters/rollups';
import { MIGRATIONS_DIR } from '../../src/service';

// v_monthly_cost_volume_tiered against embedded ClickHouse, through the real roll-up refresh, with a
// hand-computed fixture: tier boundaries, a card change mid-month, rest-of-world pricing shared by
// two countries, the monthly reset, two WABAs adding to one volume, and the rows the view must
// ignore (free, CBP, unpriced, a duplicated charge). September's authentication volume is priced
// by the tiers Meta announced (account_update VOLUME_BASED_PRICING_TIER_UPDATE, written through the
// consumer's event buffer), not by this deployment's own count:
// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-tiers-'));
const db = `wa_${uniqueName('tiers').replace(/-/g, '_')}`;
let ch: ClickHouseClient;

const rate = (country: string, category: string, effective_from: string, volume_tier_from: number, rate_micros: number, pricing_model = 'PMP') => ({
  pricing_model,
  country,
  category,
  effective_from,
  volume_tier_from,
  rate_micros,
  source: 'test',
});

let seq = 0;
function charge(waba: string, country: string, category: string, day: string, eff: string, costMicros: number, extra: Record<string, unknown> = {}) {
  seq += 1;
  return {
    charge_key: `c${seq}`,
    version: seq,
    pricing_model: 'PMP',
    category,
    country,
    billable: 1,
    free_type: '',
    priced_at: `${day} 12:00:00.000`,
    rate_micros: costMicros,
    cost_micros: costMicros,
    rate_effective_from: eff,
    unpriced: 0,
    wamid: `wamid.${seq}`,
    job_id: `job-${seq}`,
    phone_number_id: '1001',
    waba_id: waba,
    event_at: `${day} 12:00:00.000`,
    ...extra,
  };
}
/** An account_update tier announcement as the webhook normaliser forwards it on wa.events.account. */
function tierUpdate(
  id: string,
  info: { tier: string; pricing_category: string; region: string; effective_month: string; tier_update_time: number },
): AccountEventV1 {
  const atMs = typeof info.tier_update_time === 'number' ? info.tier_update_time * 1000 : Date.parse('2026-09-21T14:13:20Z');
  return {
    v: 1,
    eventId: id,
    kind: 'account_update',
    field: 'account_update',
    wabaId: 'w1',
    occurredAt: new Date(atMs).toISOString(),
    event: 'VOLUME_BASED_PRICING_TIER_UPDATE',
    value: { event: 'VOLUME_BASED_PRICING_TIER_UPDATE', volume_tier_info: info },
    receivedAt: new Date(atMs + 500).toISOString(),
    deliveryId: `d-${id}`,
  };
}
const unix = (iso: string) => Date.parse(iso) / 1000;

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

beforeAll(async () => {
  ch = await createClickHouse({ path: dataDir });
  await migrate(ch, { database: db, dir: MIGRATIONS_DIR });
  await ch.insert({
    table: `${db}.rate_card`,
    format: 'JSONEachRow',
    values: [
      rate('IN', 'utility', '2025-07-01', 0, 4000),
      rate('IN', 'utility', '2025-07-01', 3, 3000),
      rate('IN', 'utility', '2025-07-01', 5, 2000),
      rate('IN', 'utility', '2025-07-15', 0, 5000),
      rate('IN', 'utility', '2025-07-15', 3, 1000),
      rate('ZZ', 'utility', '2025-07-01', 0, 8000),
      rate('ZZ', 'utility', '2025-07-01', 2, 6000),
      rate('IN', 'marketing', '2025-07-01', 0, 10000),
      rate('IN', 'authentication', '2025-07-01', 0, 3000),
      rate('IN', 'authentication', '2025-07-01', 10, 2000),
      rate('IN', 'authentication', '2025-07-01', 100, 1000),
      // A CBP card for the same key: the view must not take its rows as tiers.
      rate('IN', 'utility', '2025-07-01', 1, 1, 'CBP'),
    ],
  });
  const duplicated = charge('w2', 'IN', 'utility', '2025-07-03', '2025-07-01', 4000);
  await ch.insert({
    table: `${db}.charges`,
    format: 'JSONEachRow',
    values: [
      ...times(7, (i) => charge('w1', 'IN', 'utility', `2025-07-0${i + 2}`, '2025-07-01', 4000)),
      ...times(2, () => charge('w1', 'IN', 'utility', '2025-07-20', '2025-07-15', 5000)),
      ...times(3, () => charge('w1', 'FR', 'utility', '2025-07-05', '2025-07-01', 8000)),
      charge('w1', 'DE', 'utility', '2025-07-06', '2025-07-01', 8000),
      charge('w1', 'IN', 'utility', '2025-08-01', '2025-07-15', 5000),
      ...times(2, () => charge('w1', 'IN', 'marketing', '2025-07-04', '2025-07-01', 10000)),
      ...times(3, () => charge('w2', 'IN', 'utility', '2025-07-03', '2025-07-01', 4000)),
      duplicated,
      { ...duplicated, version: duplicated.version + 1000 },
      // Ignored: free (customer-service window), conversation-based, unpriced.
      charge('w1', 'IN', 'utility', '2025-07-02', '2025-07-01', 0, { billable: 0, free_type: 'free_customer_service' }),
      charge('w1', 'IN', 'utility', '2025-07-02', '2025-07-01', 4000, { pricing_model: 'CBP' }),
      charge('w1', 'IN', 'utility', '2025-07-02', '', 0, { unpriced: 1 }),
      // September authentication: 5 before Meta's first announcement, 4 under "11:100", 1 under "101:".
      ...times(2, () => charge('w1', 'IN', 'authentication', '2025-09-02', '2025-07-01', 3000)),
      ...times(3, () => charge('w2', 'IN', 'authentication', '2025-09-03', '2025-07-01', 3000)),
      ...times(4, () => charge('w1', 'IN', 'authentication', '2025-09-10', '2025-07-01', 3000)),
      charge('w1', 'IN', 'authentication', '2025-09-11', '2025-07-01', 3000),
    ],
  });
  const buffer = new EventBuffer({
    roles: new Map([['account', 'account']]),
    mapper: createRowMapper({ salt: 'tiers', rateCard: () => createRateCard([]) }),
    tracker: createLatencyTracker(),
    metrics: createAnalyticsMetrics(new Registry()),
  });
  const auth = { pricing_category: 'AUTHENTICATION', region: 'India', effective_month: '2025-09' };
  const announcements = [
    // Reached on 3 September: applies from the 4th (the roll-up is daily; the count decides the 3rd).
    tierUpdate('t1', { ...auth, tier: '11:100', tier_update_time: unix('2025-09-03T10:00:00Z') }),
    tierUpdate('t1', { ...auth, tier: '11:100', tier_update_time: unix('2025-09-03T10:00:00Z') }), // redelivered
    tierUpdate('t2', { ...auth, tier: '101:', tier_update_time: unix('2025-09-10T05:00:00Z') }),
    // Ignored here: another month, another category, a multi-country market, a utility tier for July
    // reached on its last day (nothing left in the month to apply it to).
    tierUpdate('t3', { ...auth, effective_month: '2025-08', tier: '101:', tier_update_time: unix('2025-08-01T05:00:00Z') }),
    tierUpdate('t4', { ...auth, pricing_category: 'MARKETING', tier: '101:', tier_update_time: unix('2025-09-01T05:00:00Z') }),
    tierUpdate('t5', { ...auth, region: 'Rest of Asia Pacific', tier: '101:', tier_update_time: unix('2025-09-01T05:00:00Z') }),
    tierUpdate('t6', { ...auth, pricing_category: 'UTILITY', effective_month: '2025-07', tier: '101:', tier_update_time: unix('2025-07-31T05:00:00Z') }),
  ];
  announcements.forEach((e, i) => buffer.add({ topic: 'account', partition: 0, offset: String(i), value: Buffer.from(JSON.stringify(e)) }));
  // The analytics service marks the days it wrote and refreshes the roll-ups; do the same.
  const store = new ClickHouseStore(ch, db);
  await store.insertBatch(buffer.take().rows, 'tiers-batch');
  const days = ['2025-07-02', '2025-07-03', '2025-07-04', '2025-07-05', '2025-07-06', '2025-07-07', '2025-07-08', '2025-07-20', '2025-08-01'];
  days.push('2025-09-02', '2025-09-03', '2025-09-10', '2025-09-11');
  await store.insertRows(
    'rollup_dirty',
    days.map((day) => ({ kind: 'spend', day })),
  );
  await createRollups(store, createLogger({ service: 'analytics-test', level: 'warn' })).refresh();
});

afterAll(async () => {
  await ch?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('v_monthly_cost_volume_tiered (embedded ClickHouse)', () => {
  it('prices each month by volume tier, continuing the count across a card change and resetting each month', async () => {
    const result = await ch.query({
      query: `SELECT toString(month) AS month, market, category, tier_source, meta_tier, billable_messages, base_cost_micros, tiered_cost_micros,
                     volume_discount_micros, toString(tiered_cost_usd) AS usd
              FROM ${db}.v_monthly_cost_volume_tiered ORDER BY month, market, category, tier_source, meta_tier`,
      format: 'JSONEachRow',
    });
    const rows = (await result.json<Record<string, unknown>>()).map((r) => ({
      month: r.month,
      market: r.market,
      category: r.category,
      source: r.tier_source,
      meta: r.meta_tier,
      messages: Number(r.billable_messages),
      base: Number(r.base_cost_micros),
      tiered: Number(r.tiered_cost_micros),
      discount: Number(r.volume_discount_micros),
      usd: r.usd,
    }));
    expect(rows).toEqual([
      {
        month: '2025-07-01',
        market: 'IN',
        category: 'marketing',
        source: 'counted',
        meta: '',
        messages: 2,
        base: 20000,
        tiered: 20000,
        discount: 0,
        usd: '0.02',
      },
      // 11 under the 1 July card (w1's 7 and w2's 4, its duplicated charge once): #1-3 at 4000,
      // #4-5 at 3000, #6-11 at 2000 = 30000; then #12-13 under the 15 July card, whose tier from 3
      // applies: 2 x 1000. Base 11 x 4000 + 2 x 5000 = 54000.
      {
        month: '2025-07-01',
        market: 'IN',
        category: 'utility',
        source: 'counted',
        meta: '',
        messages: 13,
        base: 54000,
        tiered: 32000,
        discount: 22000,
        usd: '0.032',
      },
      // FR and DE are both rest of world: one volume, #1-2 at 8000, #3-4 at 6000.
      {
        month: '2025-07-01',
        market: 'ZZ',
        category: 'utility',
        source: 'counted',
        meta: '',
        messages: 4,
        base: 32000,
        tiered: 28000,
        discount: 4000,
        usd: '0.028',
      },
      // August starts again at the base tier.
      { month: '2025-08-01', market: 'IN', category: 'utility', source: 'counted', meta: '', messages: 1, base: 5000, tiered: 5000, discount: 0, usd: '0.005' },
      // Counted here: #1-5 at the base rate, before Meta's first announcement takes effect.
      {
        month: '2025-09-01',
        market: 'IN',
        category: 'authentication',
        source: 'counted',
        meta: '',
        messages: 5,
        base: 15000,
        tiered: 15000,
        discount: 0,
        usd: '0.015',
      },
      {
        month: '2025-09-01',
        market: 'IN',
        category: 'authentication',
        source: 'meta',
        meta: '101:',
        messages: 1,
        base: 3000,
        tiered: 1000,
        discount: 2000,
        usd: '0.001',
      },
      // Meta says the portfolio reached "11:100" (its other senders count too): all 4 at the card's
      // tier from 10, though this deployment has counted only 6-9.
      {
        month: '2025-09-01',
        market: 'IN',
        category: 'authentication',
        source: 'meta',
        meta: '11:100',
        messages: 4,
        base: 12000,
        tiered: 8000,
        discount: 4000,
        usd: '0.008',
      },
    ]);
  });
});

describe('volume_tiers (Meta announcements recorded from account events)', () => {
  it('keeps one row per announcement, with the market of its region and the first message of its tier', async () => {
    const result = await ch.query({
      query: `SELECT event_id, waba_id, region, market, category, toString(effective_month) AS month, tier, tier_first, toString(tier_update_time) AS at
              FROM ${db}.volume_tiers FINAL ORDER BY event_id`,
      format: 'JSONEachRow',
    });
    const rows = (await result.json<Record<string, unknown>>()).map((r) => [r.event_id, r.market, r.category, r.month, r.tier, Number(r.tier_first), r.at]);
    expect(rows).toEqual([
      ['t1', 'IN', 'authentication', '2025-09-01', '11:100', 11, '2025-09-03 10:00:00'],
      ['t2', 'IN', 'authentication', '2025-09-01', '101:', 101, '2025-09-10 05:00:00'],
      ['t3', 'IN', 'authentication', '2025-08-01', '101:', 101, '2025-08-01 05:00:00'],
      ['t4', 'IN', 'marketing', '2025-09-01', '101:', 101, '2025-09-01 05:00:00'],
      ['t5', '', 'authentication', '2025-09-01', '101:', 101, '2025-09-01 05:00:00'],
      ['t6', 'IN', 'utility', '2025-07-01', '101:', 101, '2025-07-31 05:00:00'],
    ]);
  });
});

describe('migration 009 (announcements recorded before volume_tiers existed)', () => {
  it('copies them from account_events exactly as the consumer maps them', async () => {
    const old = `${db}_old`;
    await migrate(ch, { database: old, dir: MIGRATIONS_DIR });
    const base = { pricing_category: 'UTILITY', region: 'India', effective_month: '2026-10', tier: '25001:100000', tier_update_time: 1_790_000_000 };
    const variants: Record<string, unknown>[] = [
      {},
      { region: 'UNITED KINGDOM', tier: ' 100000001 : ' },
      { region: 'saudi-arabia', pricing_category: 'authentication' },
      { region: 'br', tier_update_time: '1790000123' },
      { region: 'North America' },
      { region: undefined },
      { tier: '0:5' },
      { tier: '10:5' },
      { tier: 'top' },
      { effective_month: '2026-13' },
      { pricing_category: 7 },
      { tier_update_time: undefined },
    ];
    const events = variants.map((v, i) => tierUpdate(`b${String(i).padStart(2, '0')}`, { ...base, ...v } as Parameters<typeof tierUpdate>[1]));
    // A restriction is not a tier update.
    events.push({ ...tierUpdate('b99', base), event: 'ACCOUNT_RESTRICTION' });
    await ch.insert({ table: `${old}.account_events`, format: 'JSONEachRow', values: events.map(accountRow) });
    const backfill = (await readMigrations(MIGRATIONS_DIR, old)).find((m) => m.version === 9)!;
    for (const statement of backfill.statements) await ch.command({ query: statement });

    const result = await ch.query({
      query: `SELECT event_id, waba_id, region, market, category, toString(effective_month) AS effective_month, tier, tier_first,
                     tier_update_time, received_at FROM ${old}.volume_tiers FINAL ORDER BY event_id`,
      format: 'JSONEachRow',
    });
    const got = (await result.json<Record<string, unknown>>()).map((r) => ({
      ...r,
      tier_first: Number(r.tier_first),
      tier_update_time: new Date(`${String(r.tier_update_time).replace(' ', 'T')}Z`).toISOString(),
      received_at: new Date(`${String(r.received_at).replace(' ', 'T')}Z`).toISOString(),
    }));
    const expected = events.map(volumeTierRow).filter((r) => r !== undefined);
    expect(expected.map((r) => r.event_id)).toEqual(['b00', 'b01', 'b02', 'b03', 'b04', 'b05']);
    expect(got).toEqual(expected);
  });
});
