import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { deleteTopics, testInfra, uniqueName, waitFor, TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { topics } from '@wa/shared/topics';
import { createAnalyticsQueries } from '../../src/adapters/analytics-queries';
import { loadAnalyticsConfig } from '../../src/config';
import { analyticsTopics, createAnalyticsService, type AnalyticsService } from '../../src/service';
import { buildFixture, EXPECTED, sentEvents, statusEvents } from '../fixtures/events';

/**
 * The roll-up timer on a fresh store while the HTTP API is busy, as in the demo: the demo polls every
 * campaign each second with a 5 s client timeout and polls again, while the abandoned reads still run
 * (chdb runs one statement at a time per connection, parameterized ones one at a time per process).
 * One slow parameterized API read stands in for that backlog; the funnel must move while it runs.
 */
const infra = testInfra();
const prefix = `${uniqueName('an-rr')}.`;
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-rollup-'));
const database = `wa_${uniqueName('rr').replace(/-/g, '_')}`;
const logger = createLogger({ service: 'analytics-rollup-test', level: 'warn' });
const kafka = createKafka({ brokers: infra.brokers, clientId: 'analytics-rollup-test', logger });
const config = loadAnalyticsConfig({
  KAFKA_BROKERS: infra.brokers.join(','),
  TOPIC_PREFIX: prefix,
  CLICKHOUSE_PATH: dataDir,
  CLICKHOUSE_DATABASE: database,
  RATE_CARD_PATH: 'services/analytics/test/fixtures/rate-card.test.csv',
  ANALYTICS_GROUP_ID: uniqueName('analytics-rollup'),
  ANALYTICS_BATCH_ROWS: '50',
  ANALYTICS_FLUSH_INTERVAL_MS: '100',
  GAUGE_REFRESH_MS: '600000',
  ROLLUP_REFRESH_MS: '250',
  LOG_LEVEL: 'warn',
  RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY,
});

// 60 one-row blocks of 0.5 s: a 30 s read, far longer than a few refresh periods.
const SLOW_READ = `SELECT count() AS n FROM numbers(60) WHERE sleepEachRow(0.5) = 0 AND number < {limit:UInt32} SETTINGS max_block_size = 1`;

let admin: Admin;
let producer: Producer;
let service: AnalyticsService;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    [...analyticsTopics('').keys()].map((name) => ({ name })),
    { partitions: 1, retentionMs: 3_600_000, prefix },
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

describe('roll-up refresh timer on a freshly migrated store', () => {
  it('moves the campaign funnel while a slow API read is still running', async () => {
    const messages = buildFixture().messages;
    let slowDone = false;
    const slow = service.readStore.query<{ n: unknown }>(SLOW_READ, { limit: 60 }).finally(() => {
      slowDone = true;
    });
    const send = (topic: { name: string }, values: object[]) =>
      producer.send({ topic: prefix + topic.name, acks: -1, messages: values.map((v) => ({ key: null, value: JSON.stringify(v) })) });
    await send(topics.messagesSent, sentEvents(messages));
    await send(topics.eventsStatus, statusEvents(messages));

    // Only the refresh timer recomputes roll-ups here; the bound is the slow read itself. The funnel
    // is read the API's way but over the consumer's connection, which the slow read does not hold.
    const queries = createAnalyticsQueries(service.store);
    const funnel = await waitFor(
      async () => {
        const view = await queries.campaign('camp-1');
        return slowDone || view?.funnel.delivered === EXPECTED.campaigns['camp-1'].delivered ? { view, slowDone } : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, description: 'camp-1 funnel' },
    );
    expect(funnel.slowDone).toBe(false);
    expect(funnel.view?.funnel).toMatchObject({ delivered: 5, read: 2, failed: 1, pending: 0 });
    expect(Number((await slow)[0]?.n)).toBe(60);
  });

  it('reports each refresh and how old the roll-ups are on /metrics', async () => {
    const text = await waitFor(
      async () => {
        const body = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
        return /^wa_analytics_rollup_staleness_seconds(\{[^}]*\})? \S+$/m.test(body) ? body : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'a completed roll-up refresh on /metrics' },
    );
    expect(Number(/^wa_analytics_rollup_refresh_seconds_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    // Refreshes start 250 ms apart while they are short: the figures are seconds old, not minutes.
    const staleness = Number(/^wa_analytics_rollup_staleness_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
    expect(staleness).toBeGreaterThanOrEqual(0);
    expect(staleness).toBeLessThan(30);
  });
});
