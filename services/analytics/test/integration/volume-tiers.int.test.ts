import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '@wa/shared/clickhouse';
import { createLogger } from '@wa/shared/logger';
import { uniqueName } from '@wa/shared/testing';
import { ClickHouseStore } from '../../src/adapters/clickhouse-store';
import { migrate } from '../../src/adapters/migrations';
import { createRollups } from '../../src/adapters/rollups';
import { MIGRATIONS_DIR } from '../../src/service';

// v_monthly_cost_volume_tiered against embedded ClickHouse, through the real roll-up refresh, with a
// hand-computed fixture: tier boundaries, a card change mid-month, rest-of-world pricing shared by
// two countries, the monthly reset, two WABAs adding to one volume, and the rows the view must
// ignore (free, CBP, unpriced, a duplicated charge).
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
    ],
  });
  // The analytics service marks the days it wrote and refreshes the roll-ups; do the same.
  const store = new ClickHouseStore(ch, db);
  const days = ['2025-07-02', '2025-07-03', '2025-07-04', '2025-07-05', '2025-07-06', '2025-07-07', '2025-07-08', '2025-07-20', '2025-08-01'];
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
      query: `SELECT toString(month) AS month, market, category, billable_messages, base_cost_micros, tiered_cost_micros, volume_discount_micros, toString(tiered_cost_usd) AS usd
              FROM ${db}.v_monthly_cost_volume_tiered ORDER BY month, market, category`,
      format: 'JSONEachRow',
    });
    const rows = (await result.json<Record<string, unknown>>()).map((r) => ({
      month: r.month,
      market: r.market,
      category: r.category,
      messages: Number(r.billable_messages),
      base: Number(r.base_cost_micros),
      tiered: Number(r.tiered_cost_micros),
      discount: Number(r.volume_discount_micros),
      usd: r.usd,
    }));
    expect(rows).toEqual([
      { month: '2025-07-01', market: 'IN', category: 'marketing', messages: 2, base: 20000, tiered: 20000, discount: 0, usd: '0.02' },
      // 11 under the 1 July card (w1's 7 and w2's 4, its duplicated charge once): #1-3 at 4000,
      // #4-5 at 3000, #6-11 at 2000 = 30000; then #12-13 under the 15 July card, whose tier from 3
      // applies: 2 x 1000. Base 11 x 4000 + 2 x 5000 = 54000.
      { month: '2025-07-01', market: 'IN', category: 'utility', messages: 13, base: 54000, tiered: 32000, discount: 22000, usd: '0.032' },
      // FR and DE are both rest of world: one volume, #1-2 at 8000, #3-4 at 6000.
      { month: '2025-07-01', market: 'ZZ', category: 'utility', messages: 4, base: 32000, tiered: 28000, discount: 4000, usd: '0.028' },
      // August starts again at the base tier.
      { month: '2025-08-01', market: 'IN', category: 'utility', messages: 1, base: 5000, tiered: 5000, discount: 0, usd: '0.005' },
    ]);
  });
});
