/**
 * `npm run bench` — the end-to-end benchmark through the real pipeline: ingest → dispatcher →
 * Cloud API simulator → webhook → analytics, every service its own process, real Kafka and Redis,
 * embedded ClickHouse. Env: BENCH_MESSAGES (default 60000), BENCH_POOL (bench-fast: two numbers at
 * 1,000 msg/s each), BENCH_STALL_S (give up after this long without progress, default 60).
 * Besides rates and latencies it reports where the CPU went, per sent message, for every process
 * (services, simulator, broker, Redis, this collector) and the whole machine: on 2 cores, 2,000
 * msgs/s leaves 1 ms of CPU per message for all of them together.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { createKafka } from '@wa/shared';
import { collectOutcomes, campaignReport } from '../tools/stack/src/outcomes';
import { histogramQuantile } from '../tools/stack/src/prom-text';
import { startStack } from '../tools/stack/src/stack';
import { simStats, submitBroadcast, waitForCompletion } from '../tools/stack/src/drill-harness';
import { startCpuMeter } from './lib/proc-stats';
import { percentile, printTable, writeReport } from './lib/report';

const messages = Number(process.env.BENCH_MESSAGES ?? 60_000);
const pool = process.env.BENCH_POOL ?? 'bench-fast';
const stallMs = Number(process.env.BENCH_STALL_S ?? 60) * 1000;
const root = resolve(import.meta.dirname, '..');
const runId = Date.now().toString(36);
const dataDir = resolve(root, `.data/bench-e2e/${runId}`);
const prefix = `bench-${runId}.`;
mkdirSync(dataDir, { recursive: true });

const stack = await startStack({
  root,
  catalogPath: resolve(root, 'config/catalog.bench.json'),
  dataDir,
  kafkaBrokers: process.env.KAFKA_BROKERS,
  redisUrl: process.env.REDIS_URL,
  topicPrefix: prefix,
  redisKeyPrefix: prefix,
  ports: 'free',
  sim: { delaysMs: { sent: [20, 200], delivered: [100, 1000], read: [500, 3000] } },
  log: (line) => console.log(line),
});
const kafka = createKafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: 'bench-e2e', logger: pino({ level: 'silent' }) });
const { tally, stop: stopCollector } = await collectOutcomes(kafka, prefix);

try {
  const campaignId = `bench-${runId}`;
  const cpu = startCpuMeter(root, Object.fromEntries([...stack.processes].map(([name, proc]) => [name, proc.child.pid])));
  const submittedAt = Date.now();
  const broadcast = await submitBroadcast(stack, {
    campaignId,
    size: messages,
    seed: 42,
    pool,
    template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1042', 'shipped'] },
    dataDir,
  });
  console.log(`submitted ${messages} recipients (${broadcast.expectedJobs} valid distinct) to pool ${pool}`);
  const report = await waitForCompletion(tally, broadcast, { stallMs, requireFinalStatus: true });
  const finishedAt = Date.now();
  const cpuMs = cpu.read();

  const [sim, webhookMetrics] = await Promise.all([simStats(stack), fetch(`${stack.urls.webhook}/metrics`).then((r) => r.text())]);
  const sendSeconds = tally.firstSentAt !== null && tally.lastSentAt !== null ? (tally.lastSentAt - tally.firstSentAt) / 1000 : null;
  const sent = report.sent;
  const perNumber = stack.catalog.phoneNumbers
    .filter((n) => (tally.sentByNumber.get(n.id) ?? 0) > 0)
    .map((n) => {
      const count = tally.sentByNumber.get(n.id) ?? 0;
      const rate = sendSeconds ? count / sendSeconds : 0;
      return {
        id: n.id,
        configuredMps: n.throughputMps,
        sent: count,
        achievedMps: rate,
        ratio: rate / n.throughputMps,
        peakAcceptedPerSecond: sim.phoneNumbers?.[n.id]?.peakAcceptedPerSecond ?? null,
      };
    });
  let delivered = 0;
  let failed = 0;
  for (const statuses of tally.statusesByJob.values()) {
    if (statuses.has('delivered') || statuses.has('read')) delivered += 1;
    else if (statuses.has('failed')) failed += 1;
  }
  const lost = broadcast.expectedJobs - report.terminal + (report.sent - report.sentWithFinalStatus);
  const figures = {
    messagesRequested: messages,
    jobsExpected: broadcast.expectedJobs,
    jobsWithTerminalOutcome: report.terminal,
    sent,
    wallSeconds: (finishedAt - submittedAt) / 1000,
    sendSeconds,
    sustainedMessagesPerSecond: sendSeconds ? sent / sendSeconds : null,
    endToEndMessagesPerSecond: sent / ((finishedAt - submittedAt) / 1000),
    perNumber,
    sendLatencyMs: { p50: percentile(tally.sendLatenciesMs, 50), p99: percentile(tally.sendLatenciesMs, 99) },
    webhookAckMs: {
      p50: scaled(histogramQuantile(webhookMetrics, 'wa_webhook_ack_duration_seconds', 0.5)),
      p99: scaled(histogramQuantile(webhookMetrics, 'wa_webhook_ack_duration_seconds', 0.99)),
    },
    requestToDeliveredMs: { p50: percentile(tally.requestToDeliveredMs, 50), p99: percentile(tally.requestToDeliveredMs, 99) },
    deliveryRate: delivered + failed > 0 ? delivered / (delivered + failed) : null,
    throttled130429: Number(sim.rejectedByCode?.['130429'] ?? 0),
    duplicateSends: Number(sim.duplicateSends?.count ?? 0),
    lostMessages: lost,
    conflictingOutcomes: report.conflicting.length,
    webhookDeliveries: sim.webhooks,
    failedByCode: sim.failedByCode,
    outcomes: Object.fromEntries(tally.outcomes),
    campaignReport: campaignReport(tally, campaignId),
    // Where the 2 cores went from submit to the last final status, per sent message (ms of CPU).
    cpuMsPerMessage: Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, sent > 0 ? Math.round((ms / sent) * 1000) / 1000 : null])),
    nodeOptions: Object.fromEntries(Object.entries(stack.env).map(([name, env]) => [name, env.NODE_OPTIONS ?? ''])),
  };
  printTable(`end-to-end benchmark — ${messages} recipients, pool ${pool}`, [
    {
      metric: 'sustained msgs/s (first→last send)',
      value: figures.sustainedMessagesPerSecond,
      target: '>= 2000',
      ok: (figures.sustainedMessagesPerSecond ?? 0) >= 2000,
    },
    { metric: 'end-to-end msgs/s (submit→all final)', value: figures.endToEndMessagesPerSecond },
    ...perNumber.map((n) => ({ metric: `achieved/allowed ${n.id} (${n.configuredMps}/s)`, value: n.ratio, target: '>= 0.97', ok: n.ratio >= 0.97 })),
    { metric: 'send latency p50 ms', value: figures.sendLatencyMs.p50 },
    { metric: 'send latency p99 ms', value: figures.sendLatencyMs.p99 },
    { metric: 'webhook ack p50 ms', value: figures.webhookAckMs.p50 },
    { metric: 'webhook ack p99 ms', value: figures.webhookAckMs.p99 },
    { metric: 'request→delivered p50 ms', value: figures.requestToDeliveredMs.p50 },
    { metric: 'request→delivered p99 ms', value: figures.requestToDeliveredMs.p99 },
    { metric: 'delivery rate', value: figures.deliveryRate, target: '>= 0.97 (sim)', ok: (figures.deliveryRate ?? 0) >= 0.97 },
    { metric: '130429 count', value: figures.throttled130429, target: '0', ok: figures.throttled130429 === 0 },
    { metric: 'duplicate sends', value: figures.duplicateSends, target: '0', ok: figures.duplicateSends === 0 },
    { metric: 'lost messages', value: figures.lostMessages, target: '0', ok: figures.lostMessages === 0 },
    ...Object.entries(figures.cpuMsPerMessage).map(([name, ms]) => ({ metric: `CPU ms per message: ${name}`, value: ms })),
  ]);
  writeReport('e2e', figures);
} finally {
  await stopCollector();
  await stack.stop();
}

function scaled(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}
