import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOPICS, createKafka, createProducer, decodeJson, deadLetterV1, topics } from '@wa/shared';
import { startDrillInfra, type DrillInfra } from '../../src/drill-infra';
import { startFaultProxy, type FaultProxy } from '../../src/fault-proxy';
import { collectOutcomes, type OutcomeTally } from '../../src/outcomes';
import { startStack, type RunningStack } from '../../src/stack';
import { simStats, submitBroadcast, waitForCompletion, waitForProgress, waitForWebhooksDrained } from '../../src/drill-harness';

/**
 * Fault drills (`npm run test:faults`): the whole pipeline as processes, a fault injected in the
 * middle of a broadcast, then the invariants: zero duplicate sends (simulator ground truth), zero
 * lost messages (every job exactly one terminal outcome), and the pipeline catches up on its own.
 * Drills own their broker (port 29092) and Redis (port 6391, AOF) so restarts disturb nobody else.
 */
const root = resolve(__dirname, '../../../..');
const runId = Date.now().toString(36);
const dataDir = resolve(root, `.data/drills/${runId}`);
const prefix = `drill-${runId}.`;
const SALE = { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] };
const REMINDER = { name: 'table_reminder', language: 'en_US', category: 'utility', bodyParams: ['7 pm', 'Friday'] };

let infra: DrillInfra;
let proxy: FaultProxy;
let stack: RunningStack;
let kafka: Kafka;
let tally: OutcomeTally;
let stopCollector: () => Promise<void>;

async function expectNoDuplicatesNorLoss(campaignId: string, expectedJobs: number, requireFinalStatus: boolean) {
  const report = await waitForCompletion(tally, { campaignId, expectedJobs, invalid: 0 }, { stallMs: 60_000, requireFinalStatus });
  const sim = await simStats(stack);
  expect(sim.duplicateSends.count, `duplicate sends: ${JSON.stringify(sim.duplicateSends.items?.slice(0, 5))}`).toBe(0);
  expect(report.conflicting, 'jobs with more than one terminal outcome').toEqual([]);
  expect(report.terminal, `jobs with a terminal outcome (report ${JSON.stringify(report)})`).toBe(expectedJobs);
  if (requireFinalStatus) expect(report.sentWithFinalStatus).toBe(report.sent);
  return report;
}

describe('fault drills', () => {
  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    infra = await startDrillInfra(root, { kafkaPort: 29092, redisPort: 6391 });
    proxy = await startFaultProxy({ listenPort: infra.faultProxy.listenPort, targetHost: '127.0.0.1', targetPort: infra.faultProxy.targetPort });
    stack = await startStack({
      root,
      catalogPath: resolve(root, 'config/catalog.demo.json'),
      dataDir,
      kafkaBrokers: infra.kafkaBrokers,
      redisUrl: infra.redisUrl,
      topicPrefix: prefix,
      ports: 'free',
      // The webhook service reaches Kafka only through the cuttable proxy.
      serviceEnv: { webhook: { KAFKA_BROKERS: `127.0.0.1:${proxy.port}` } },
      sim: {
        delaysMs: { sent: [20, 100], delivered: [100, 500], read: [200, 1000] },
        // Meta retries for 7 days with decreasing frequency; compressed so a 30 s outage is caught up in seconds.
        webhooks: { retry: { baseMs: 500, factor: 2, maxDelayMs: 4_000, maxAttempts: 40, maxAgeMs: 600_000 } },
      },
    });
    kafka = createKafka({ brokers: [infra.kafkaBrokers], clientId: 'drills', logger: pino({ level: 'silent' }) });
    ({ tally, stop: stopCollector } = await collectOutcomes(kafka, prefix));
  }, 300_000);

  afterAll(async () => {
    await stopCollector?.().catch(() => undefined);
    await stack?.stop();
    await proxy?.close();
    await infra?.stop();
  }, 120_000);

  it('kill -9 of the dispatcher mid-broadcast: restart, no duplicate send, nothing lost', async () => {
    const broadcast = await submitBroadcast(stack, {
      campaignId: `kill-dispatcher-${runId}`,
      size: 3000,
      seed: 11,
      pool: 'acme-main',
      template: SALE,
      dataDir,
    });
    await waitForProgress(tally, broadcast, 0.3, 120_000);
    await stack.kill('dispatcher');
    await stack.start('dispatcher');
    const report = await expectNoDuplicatesNorLoss(broadcast.campaignId, broadcast.expectedJobs, true);
    console.log('kill -9 dispatcher:', report, Object.fromEntries(tally.outcomes));
  }, 600_000);

  it('Kafka broker restart mid-broadcast: services reconnect and catch up', async () => {
    const broadcast = await submitBroadcast(stack, {
      campaignId: `restart-kafka-${runId}`,
      size: 2000,
      seed: 12,
      pool: 'bistro-main',
      template: REMINDER,
      dataDir,
    });
    await waitForProgress(tally, broadcast, 0.3, 120_000);
    await infra.restartKafka();
    const report = await expectNoDuplicatesNorLoss(broadcast.campaignId, broadcast.expectedJobs, true);
    console.log('Kafka restart:', report);
  }, 600_000);

  it('Kafka unreachable for the webhook service for 30 s: Meta retries land, nothing lost', async () => {
    const broadcast = await submitBroadcast(stack, {
      campaignId: `webhook-partition-${runId}`,
      size: 2000,
      seed: 13,
      pool: 'acme-main',
      template: SALE,
      dataDir,
    });
    await waitForProgress(tally, broadcast, 0.2, 120_000);
    const before = (await simStats(stack)).webhooks;
    proxy.cut();
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, 30_000 - (Date.now() - cutAt)));
    // While cut, the webhook service refused (non-2xx) what it could not persist, and Meta (the simulator) retried.
    const during = (await simStats(stack)).webhooks;
    expect(during.failedAttempts).toBeGreaterThan(before.failedAttempts);
    expect(during.retriesScheduled).toBeGreaterThan(before.retriesScheduled);
    proxy.restore();
    const report = await expectNoDuplicatesNorLoss(broadcast.campaignId, broadcast.expectedJobs, true);
    // Retries back off to 4 s, so anything still pending lands within a few seconds.
    const sim = await waitForWebhooksDrained(stack, 30_000);
    expect(sim.webhooks.abandoned).toBe(0);
    expect(sim.webhooks.pending).toBe(0);
    console.log('webhook partition:', report, 'refused during cut:', during.failedAttempts - before.failedAttempts, 'webhook deliveries:', sim.webhooks);
  }, 600_000);

  it('Redis restart mid-broadcast (AOF on): no duplicate send, nothing lost', async () => {
    const broadcast = await submitBroadcast(stack, { campaignId: `restart-redis-${runId}`, size: 3000, seed: 14, pool: 'acme-main', template: SALE, dataDir });
    await waitForProgress(tally, broadcast, 0.3, 120_000);
    await infra.restartRedis();
    const report = await expectNoDuplicatesNorLoss(broadcast.campaignId, broadcast.expectedJobs, true);
    console.log('Redis restart:', report);
  }, 600_000);

  it('poison records in every input topic are dead-lettered and the pipeline keeps flowing', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    const poison = [Buffer.from('{not json'), Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.from(JSON.stringify({ v: 99, hello: 'world' }))];
    const inputTopics = ALL_TOPICS.filter((t) => t !== topics.notificationsDlq && t !== topics.dispatchDlq).map((t) => prefix + t.name);
    for (const topic of inputTopics) await producer.send({ topic, acks: -1, messages: poison.map((value, i) => ({ key: `poison-${i}`, value })) });
    await producer.disconnect();

    const broadcast = await submitBroadcast(stack, { campaignId: `poison-${runId}`, size: 1000, seed: 15, pool: 'bistro-main', template: REMINDER, dataDir });
    await expectNoDuplicatesNorLoss(broadcast.campaignId, broadcast.expectedJobs, true);

    // The consumers of requests, dispatch jobs and retries dead-letter what they cannot read, with the source.
    const sources = new Set<string>();
    const consumer = kafka.consumer({ groupId: `${prefix}dlq-check`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [prefix + topics.notificationsDlq.name, prefix + topics.dispatchDlq.name], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const d = decodeJson(deadLetterV1, message.value);
        if (d.ok && d.value.source.kind === 'kafka' && (d.value.reason === 'invalid_json' || d.value.reason === 'schema_violation'))
          sources.add(d.value.source.topic);
      },
    });
    const expected = [
      topics.notificationsRequested,
      topics.dispatchJobs.auth,
      topics.dispatchJobs.utility,
      topics.dispatchJobs.marketing,
      ...topics.dispatchRetry.map((r) => r.topic),
    ].map((t) => prefix + t.name);
    const deadline = Date.now() + 60_000;
    while (!expected.every((t) => sources.has(t)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await consumer.disconnect();
    expect([...sources].sort()).toEqual(expect.arrayContaining(expected));
    for (const url of Object.values(stack.urls)) {
      if (url === stack.urls.sim) continue;
      expect((await fetch(`${url}/readyz`)).status, `${url} still ready`).toBe(200);
    }
  }, 600_000);
});
