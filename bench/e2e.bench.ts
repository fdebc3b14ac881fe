/**
 * `npm run bench` — the end-to-end benchmark through the real pipeline: ingest → dispatcher →
 * Cloud API simulator → webhook → analytics, every service its own process, real Kafka and Redis,
 * embedded ClickHouse. Env: BENCH_MESSAGES (default 60000), BENCH_POOL (bench-fast: two numbers at
 * 1,000 msg/s each), BENCH_STALL_S (give up after this long without progress, default 60).
 * The headline is the CPU our services spend per delivered message (every status webhook included):
 * ingest, dispatcher, webhook receiver, normaliser (its own process, as deployed) and analytics.
 * Beside it: every other process (simulator, broker, Redis, this collector) and the whole machine;
 * on 2 cores, 2,000 msgs/s leaves 1 ms of CPU per message for all of them together.
 * BENCH_CPU_PROF=webhook,normaliser,analytics,… writes V8 CPU profiles of those services (webhook: the receiver)
 * to <run dir>/profiles.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { createKafka } from '@wa/shared';
import { collectOutcomes, campaignReport } from '../tools/stack/src/outcomes';
import { histogramQuantile } from '../tools/stack/src/prom-text';
import { deployedNodeOptions, type DeployedService } from '../tools/stack/src/deployed-node-options';
import { freePorts } from '../tools/stack/src/ports';
import { startProcess, stopProcess, waitReady } from '../tools/stack/src/processes';
import { SERVICE_ENTRIES, startStack, type ServiceName } from '../tools/stack/src/stack';
import { simStats, submitBroadcast, waitForCompletion } from '../tools/stack/src/drill-harness';
import { coreSpeedMicros } from './lib/core-speed';
import { gcPauseMsPer, scrapeMetrics } from './lib/gc-pauses';
import { startCpuMeter } from './lib/proc-stats';
import { percentile, printTable, writeReport } from './lib/report';

const messages = Number(process.env.BENCH_MESSAGES ?? 60_000);
const pool = process.env.BENCH_POOL ?? 'bench-fast';
/** Issue target: ingest + dispatcher + webhook receiver + normaliser + analytics, ms of CPU per delivered message. */
const OUR_SERVICES_TARGET_MS = 0.8;
const stallMs = Number(process.env.BENCH_STALL_S ?? 60) * 1000;
const root = resolve(import.meta.dirname, '..');
const runId = Date.now().toString(36);
const dataDir = resolve(root, `.data/bench-e2e/${runId}`);
const prefix = `bench-${runId}.`;
mkdirSync(dataDir, { recursive: true });
// Read before anything else runs: the report's core speed, which its CPU figures scale by between machines.
const coreSpeed = coreSpeedMicros();
const profiled = new Set((process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean));
const profileDir = resolve(dataDir, 'profiles');
if (profiled.size > 0) mkdirSync(profileDir, { recursive: true });
// Appended to the deployed flags, so a profiled service keeps its heap settings.
const withProfile = (name: string, env: Record<string, string>): Record<string, string> =>
  profiled.has(name)
    ? {
        ...env,
        NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import ${resolve(root, 'bench/lib/cpu-profile.mjs')}`.trim(),
        BENCH_CPU_PROFILE_PATH: resolve(profileDir, `${name}.cpuprofile`),
      }
    : env;
const deployedFlags = (service: DeployedService) => ({
  NODE_OPTIONS: [deployedNodeOptions(root, service), process.env.NODE_OPTIONS].filter(Boolean).join(' '),
});
const serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {
  // The receiver only receives; the normaliser runs as its own process below, as deployed.
  webhook: { NORMALISER_ENABLED: 'false' },
};
for (const name of ['ingest', 'dispatcher', 'webhook', 'analytics'] as const)
  if (profiled.has(name)) serviceEnv[name] = withProfile(name, { ...deployedFlags(name), ...serviceEnv[name] });

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
  serviceEnv,
  log: (line) => console.log(line),
});
const [normaliserPort] = await freePorts(1);
// The receiver's settings, without the receiver's profile (a profiled normaliser gets its own).
const normaliserEnv: Record<string, string> = { ...stack.env.webhook, ...deployedFlags('webhook') };
delete normaliserEnv.BENCH_CPU_PROFILE_PATH;
const normaliser = startProcess(
  root,
  resolve(dataDir, 'logs'),
  {
    name: 'normaliser',
    entry: SERVICE_ENTRIES.webhook,
    env: withProfile('normaliser', { ...normaliserEnv, HTTP_PORT: String(normaliserPort), WEBHOOK_RECEIVER_ENABLED: 'false', NORMALISER_ENABLED: 'true' }),
    readyUrl: `http://127.0.0.1:${normaliserPort}/readyz`,
  },
  process.env,
);
await waitReady(normaliser, 90_000);
console.log(`normaliser ready at http://127.0.0.1:${normaliserPort}`);
const kafka = createKafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: 'bench-e2e', logger: pino({ level: 'silent' }) });
const { tally, stop: stopCollector } = await collectOutcomes(kafka, prefix);

try {
  const campaignId = `bench-${runId}`;
  const cpu = startCpuMeter(root, {
    ...Object.fromEntries([...stack.processes].map(([name, proc]) => [name === 'webhook' ? 'webhook receiver' : name, proc.child.pid])),
    normaliser: normaliser.child.pid,
  });
  const metricsUrls = {
    ingest: `${stack.urls.ingest}/metrics`,
    dispatcher: `${stack.urls.dispatcher}/metrics`,
    'webhook receiver': `${stack.urls.webhook}/metrics`,
    normaliser: `http://127.0.0.1:${normaliserPort}/metrics`,
    analytics: `${stack.urls.analytics}/metrics`,
  };
  const metricsBefore = await scrapeMetrics(metricsUrls);
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
  const [metricsAfter, sim] = await Promise.all([scrapeMetrics(metricsUrls), simStats(stack)]);
  const webhookMetrics = metricsAfter['webhook receiver'] ?? '';
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
  // Our four services (the webhook as its two deployed roles), per delivered message.
  const ours = ['ingest', 'dispatcher', 'webhook receiver', 'normaliser', 'analytics'] as const;
  const perDelivered = (ms: number | undefined) => (delivered > 0 && ms !== undefined ? Math.round((ms / delivered) * 1000) / 1000 : null);
  const cpuMsPerDeliveredMessage: Record<string, number | null> = {
    ourServices: perDelivered(ours.reduce((sum, name) => sum + (cpuMs[name] ?? 0), 0)),
    ...Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, perDelivered(ms)])),
  };
  const headline =
    `CPU per delivered message, our four services: ${fmt(cpuMsPerDeliveredMessage.ourServices)} ms ` +
    `(ingest ${fmt(cpuMsPerDeliveredMessage.ingest)}, dispatcher ${fmt(cpuMsPerDeliveredMessage.dispatcher)}, ` +
    `webhook receiver ${fmt(cpuMsPerDeliveredMessage['webhook receiver'])}, normaliser ${fmt(cpuMsPerDeliveredMessage.normaliser)}, ` +
    `analytics ${fmt(cpuMsPerDeliveredMessage.analytics)}); whole machine ${fmt(cpuMsPerDeliveredMessage['whole machine'])} ms`;
  const lost = broadcast.expectedJobs - report.terminal + (report.sent - report.sentWithFinalStatus);
  const figures = {
    headline,
    // CPU time from submit to the last final status ÷ messages delivered (status delivered or read).
    cpuMsPerDeliveredMessage,
    ourServicesTarget: OUR_SERVICES_TARGET_MS,
    // Of that CPU, the main thread's GC pauses (wall clock; minor = young-generation scavenges).
    gcPauseMsPerDeliveredMessage: gcPauseMsPer(metricsBefore, metricsAfter, delivered),
    delivered,
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
    // The same CPU time per sent message (ms), comparable with earlier reports.
    cpuMsPerMessage: Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, sent > 0 ? Math.round((ms / sent) * 1000) / 1000 : null])),
    nodeOptions: Object.fromEntries(Object.entries(stack.env).map(([name, env]) => [name, env.NODE_OPTIONS ?? ''])),
  };
  printTable(`end-to-end benchmark — ${messages} recipients, pool ${pool}`, [
    {
      metric: 'CPU ms per delivered message: our four services',
      value: cpuMsPerDeliveredMessage.ourServices ?? null,
      target: `<= ${OUR_SERVICES_TARGET_MS}`,
      ok: (cpuMsPerDeliveredMessage.ourServices ?? Infinity) <= OUR_SERVICES_TARGET_MS,
    },
    ...Object.entries(cpuMsPerDeliveredMessage)
      .filter(([name]) => name !== 'ourServices')
      .map(([name, ms]) => ({ metric: `CPU ms per delivered message: ${name}`, value: ms ?? null })),
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
  ]);
  console.log(`\n${headline}\nmsgs/s: ${fmt(figures.sustainedMessagesPerSecond, 0)} sustained, ${fmt(figures.endToEndMessagesPerSecond, 0)} end to end`);
  console.log(
    `GC pauses per delivered message, ms (minor): ${Object.entries(figures.gcPauseMsPerDeliveredMessage)
      .map(([name, gc]) => `${name} ${gc ? `${fmt(gc.all)} (${fmt(gc.minor)})` : '-'}`)
      .join(', ')}`,
  );
  console.log(`core speed: ${coreSpeed} µs per number (bench:phone's first figure, read before the run)`);
  writeReport('e2e', figures);
} finally {
  await stopCollector();
  // The normaliser consumes what the receiver produced: it stops after the stack's senders and receiver.
  await stack.stop();
  await stopProcess(normaliser, 30_000);
}
if (profiled.size > 0) console.log(`CPU profiles: ${profileDir}`);

function fmt(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

function scaled(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}
