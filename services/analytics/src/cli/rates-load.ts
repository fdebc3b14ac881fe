import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createClickHouse } from '@wa/shared/clickhouse';
import { loadConfig } from '@wa/shared/config';
import { analyticsEnvSchema } from '../config';
import { ClickHouseStore } from '../adapters/clickhouse-store';
import { migrate } from '../adapters/migrations';
import { createRateCard, parseRateCardCsv, RateCardParseError } from '../domain/rate-card';
import { formatMicros } from '../domain/money';
import { MIGRATIONS_DIR } from '../service';

/**
 * `npm run rates:load -- card.csv [--source meta-2026-10]`: validates a rate card CSV and upserts
 * it into `rate_card` (rows with the same model/country/category/effective_from/tier replace the
 * old ones). The running service picks it up within RATE_CARD_REFRESH_MS. Events already priced
 * keep the price they were given; see docs/analytics.md for repricing.
 */
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const sourceIdx = args.indexOf('--source');
const source = sourceIdx >= 0 ? args[sourceIdx + 1] : undefined;
if (!file) {
  console.error('usage: npm run rates:load -- <rate-card.csv> [--source <label>]');
  process.exit(2);
}
const config = loadConfig(
  analyticsEnvSchema.pick({ CLICKHOUSE_URL: true, CLICKHOUSE_PATH: true, CLICKHOUSE_DATABASE: true, CLICKHOUSE_USER: true, CLICKHOUSE_PASSWORD: true }),
  process.env,
);
let rows;
try {
  rows = parseRateCardCsv(await readFile(resolve(file), 'utf8'), source ?? 'loaded');
  if (source) rows = rows.map((r) => ({ ...r, source }));
} catch (err) {
  console.error(err instanceof RateCardParseError ? err.message : `cannot read ${file}: ${(err as Error).message}`);
  process.exit(1);
}
const ch = await createClickHouse({
  url: config.CLICKHOUSE_URL,
  path: config.CLICKHOUSE_PATH,
  database: config.CLICKHOUSE_DATABASE,
  username: config.CLICKHOUSE_USER,
  password: config.CLICKHOUSE_PASSWORD,
});
try {
  await migrate(ch, { database: config.CLICKHOUSE_DATABASE, dir: MIGRATIONS_DIR });
  const store = new ClickHouseStore(ch, config.CLICKHOUSE_DATABASE);
  await store.saveRateCard(rows);
  const card = createRateCard(await store.loadRateCard());
  const samples = rows.filter((r) => r.source === 'sample').length;
  console.log(`loaded ${rows.length} rates from ${file} into ${config.CLICKHOUSE_DATABASE}.rate_card (now ${card.size} rows)`);
  const models = [...new Set(rows.map((r) => `${r.pricingModel} from ${r.effectiveFrom}`))].sort();
  console.log(`cards: ${models.join(', ')}; highest rate ${formatMicros(Math.max(...rows.map((r) => r.rateMicros)))} USD`);
  if (samples > 0) console.warn(`warning: ${samples} rows are labelled "sample" — not Meta's prices`);
} finally {
  await ch.close();
}
