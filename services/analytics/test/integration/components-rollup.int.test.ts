import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '@wa/shared/clickhouse';
import { createLogger } from '@wa/shared/logger';
import { uniqueName } from '@wa/shared/testing';
import { ClickHouseStore } from '../../src/adapters/clickhouse-store';
import { migrate, readMigrations } from '../../src/adapters/migrations';
import { createRollups } from '../../src/adapters/rollups';
import { sendAttemptRow } from '../../src/domain/rows';
import { MIGRATIONS_DIR } from '../../src/service';
import { buildFixture, EXPECTED, sentEvents } from '../fixtures/events';

// v_message_components reads the components_daily roll-up (migration 010). Sends written before that
// migration have no 'components' mark: the migration marks every day holding sends, so the first
// refresh after an upgrade rolls them up. Embedded ClickHouse, no Kafka.
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-components-'));
const db = `wa_${uniqueName('components').replace(/-/g, '_')}`;
let ch: ClickHouseClient;
let store: ClickHouseStore;

const components = async () => {
  const result = await ch.query({
    query: `SELECT type, component, sum(messages) AS messages FROM ${db}.v_message_components GROUP BY type, component ORDER BY type, component`,
    format: 'JSONEachRow',
  });
  return (await result.json<{ type: string; component: string; messages: string }>()).map((r) => [r.type, r.component, Number(r.messages)]);
};

beforeAll(async () => {
  ch = await createClickHouse({ path: dataDir });
  await migrate(ch, { database: db, dir: MIGRATIONS_DIR });
  store = new ClickHouseStore(ch, db);
});

afterAll(async () => {
  await ch?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('components_daily roll-up (migration 010)', () => {
  it('rolls up sends written before the migration, once each, accepted sends only', async () => {
    // As an older release wrote them: sends without any 'components' mark, one of them delivered twice by Kafka.
    const rows = sentEvents(buildFixture().messages).map(sendAttemptRow);
    await store.insertBatch({ send_attempts: [...rows, rows[0]!] }, 'before-010');
    const rollups = createRollups(store, createLogger({ service: 'analytics-test', level: 'warn' }));
    await rollups.refresh();
    expect(await components()).toEqual([]);

    const upgrade = (await readMigrations(MIGRATIONS_DIR, db)).find((m) => m.version === 10)!;
    for (const statement of upgrade.statements) await ch.command({ query: statement });
    await rollups.refresh();
    expect(await components()).toEqual(EXPECTED.components);
    expect(await rollups.pending()).toBe(0);
  });
});
