import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, embeddedChdbOf } from '@wa/shared/clickhouse';
import { createKafka, createProducer, ensureTopics } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createLogger } from '@wa/shared/logger';
import { deleteTopics, testInfra, uniqueName, waitFor, TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { topics } from '@wa/shared/topics';
import { analyticsTopics } from '../../src/service';
import { buildFixture, statusEvents } from '../fixtures/events';

const infra = testInfra();
const prefix = `${uniqueName('an-stop')}.`;
const group = uniqueName('an-stop');
const dataDir = mkdtempSync(join(tmpdir(), 'analytics-stop-'));
const logger = createLogger({ service: 'analytics-stop-test', level: 'warn' });
const kafka = createKafka({ brokers: infra.brokers, clientId: 'analytics-stop-test', logger });
const port = 18_000 + Math.floor(Math.random() * 2_000);
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    [...analyticsTopics('').keys()].map((name) => ({ name })),
    { partitions: 1, retentionMs: 3_600_000, prefix },
  );
});

afterAll(async () => {
  await deleteTopics(admin, [...analyticsTopics(prefix).keys()]);
  await admin?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('process drill: SIGTERM', () => {
  it('flushes what is buffered, commits exactly those offsets and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/analytics/src/main.ts'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: infra.brokers.join(','),
        TOPIC_PREFIX: prefix,
        ANALYTICS_GROUP_ID: group,
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        CLICKHOUSE_PATH: dataDir,
        RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY,
        // Nothing is flushed before the signal: the buffer can only reach ClickHouse through shutdown.
        ANALYTICS_BATCH_ROWS: '1000000',
        ANALYTICS_FLUSH_INTERVAL_MS: '600000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: 'analytics ready',
      });
      const events = statusEvents(buildFixture().messages);
      const producer = createProducer(kafka);
      await producer.connect();
      await producer.send({ topic: prefix + topics.eventsStatus.name, acks: -1, messages: events.map((e) => ({ value: JSON.stringify(e) })) });
      await producer.disconnect();
      const lagLine = new RegExp(
        `wa_analytics_consumer_lag\\{group="[^"]+",topic="${(prefix + topics.eventsStatus.name).replace(/\./g, '\\.')}",partition="0",svc="analytics"\\} 0`,
      );
      await waitFor(async () => lagLine.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()), {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: 'batch buffered',
      });
      const before = await admin.fetchOffsets({ groupId: consumerGroupId(group, { TOPIC_PREFIX: prefix }), topics: [prefix + topics.eventsStatus.name] });
      expect(before[0]!.partitions[0]!.offset).toBe('-1');

      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);

      const after = await admin.fetchOffsets({ groupId: consumerGroupId(group, { TOPIC_PREFIX: prefix }), topics: [prefix + topics.eventsStatus.name] });
      expect(after[0]!.partitions[0]!.offset).toBe(String(events.length));
      const ch = await createClickHouse({ path: dataDir });
      try {
        // The raw-insert path the service took: the embedded engine's own API, bound to this directory.
        expect(embeddedChdbOf(ch)?.session.path).toBe(dataDir);
        const rows = await (await ch.query({ query: 'SELECT count() AS c FROM wa.status_events FINAL', format: 'JSONEachRow' })).json<{ c: unknown }>();
        expect(Number(rows[0]!.c)).toBe(events.length);
      } finally {
        await ch.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
