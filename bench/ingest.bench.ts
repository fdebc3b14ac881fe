/**
 * npm run bench:ingest — the ingest service as a child process against the real broker and Redis:
 *   1. throughput: N single-recipient requests pre-loaded on wa.notifications.requested, timed until
 *      every dispatch job is on the lane topics (validation, idempotency, normalisation, produce);
 *   2. broadcast: one request with a 1,000,000-line audience file, timed until all jobs are out,
 *      with the service's peak RSS (VmHWM) over the whole run.
 * The throughput run is repeated with BENCH_REPLICAS ingest processes in one consumer group
 * (default "1"; "1,2" runs one replica, then two); with several, the clock starts once the group is stable
 * with all of them (the rebalance when the second joins is start-up, not throughput), and the jobs
 * already out by then are not counted.
 * Env: BENCH_REQUESTS (default 100000), BENCH_AUDIENCE (default 1000000), BENCH_AUDIENCE_FORMAT (ndjson, the default, or
 * csv: a header row, then `to,body.1,body.2` with the second parameter quoted), KAFKA_BROKERS, REDIS_URL,
 * INGEST_NODE_OPTIONS (V8 flags of the service process, default a 192 MB old-space cap as a
 * container limit would impose; V8 otherwise grows its heap lazily toward the machine's memory),
 * INGEST_EXEC_ARGV (extra node flags NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_SERVICE_STDOUT=1 (pass the service's stdout through, e.g. for `--trace-gc`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import * as os from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createKafka, createProducer } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createLogger } from '@wa/shared/logger';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, deleteTopics, testInfra, uniqueName } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import { cpuMsOf, machineCpuMs, peakRssMbOf } from './lib/proc-stats';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const AUDIENCE = Number(process.env.BENCH_AUDIENCE ?? 1_000_000);
const AUDIENCE_FORMAT = process.env.BENCH_AUDIENCE_FORMAT === 'csv' ? 'csv' : 'ndjson';
const PARTITIONS = 3;
const SERVICE_NODE_OPTIONS = process.env.INGEST_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=8';
const REPLICA_COUNTS = (process.env.BENCH_REPLICAS ?? '1').split(',').map(Number);
const SERVICE_EXEC_ARGV = (process.env.INGEST_EXEC_ARGV ?? '').split(' ').filter((a) => a !== '');
const root = resolve(import.meta.dirname, '..');
const infra = testInfra();
const logger = createLogger({ service: 'bench-ingest', level: 'warn' });
const kafka = createKafka({ brokers: infra.brokers, clientId: 'bench-ingest', logger });
const admin = kafka.admin();
const producer = createProducer(kafka);
const redis = createRedis(infra.redisUrl);
const prefix = `${uniqueName('bench-ing')}.`;
const redisPrefix = `${uniqueName('bench-ing')}:`;
const audienceRoot = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
const laneTopics = [topics.dispatchJobs.auth, topics.dispatchJobs.utility, topics.dispatchJobs.marketing].map((d) => topicName(d, prefix));
const requestTopic = topicName(topics.notificationsRequested, prefix);

function startService(group: string, keyPrefix = redisPrefix): ChildProcess {
  return spawn(process.execPath, [...SERVICE_EXEC_ARGV, '--import', 'tsx', join(root, 'services/ingest/src/main.ts')], {
    cwd: root,
    stdio: ['ignore', process.env.BENCH_SERVICE_STDOUT ? 'inherit' : 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_OPTIONS: SERVICE_NODE_OPTIONS,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: infra.brokers.join(','),
      REDIS_URL: infra.redisUrl,
      TOPIC_PREFIX: prefix,
      REDIS_KEY_PREFIX: keyPrefix,
      CONSUMER_GROUP: group,
      INGEST_API_TOKEN: 'bench',
      CATALOG_PATH: join(root, 'config/catalog.example.json'),
      AUDIENCE_ROOT: audienceRoot,
      HTTP_PORT: '0',
    },
  });
}

async function outputCount(): Promise<number> {
  let total = 0;
  for (const t of laneTopics) for (const p of await admin.fetchTopicOffsets(t)) total += Number(p.high);
  return total;
}

/** True once the group has settled with `members` members (no rebalance pending). */
async function groupSettled(group: string, members: number): Promise<boolean> {
  const { groups } = await admin.describeGroups([consumerGroupId(group, { TOPIC_PREFIX: prefix })]);
  return groups[0]?.state === 'Stable' && groups[0].members.length === members;
}

/**
 * Polls until `target` jobs are out. The window starts at the first job out, or for several
 * replicas at the first poll after the group settled (`startWhen`); `countedFrom` is the number of
 * jobs already out when it started.
 */
async function waitForOutputs(
  target: number,
  children: ChildProcess | ChildProcess[],
  timeoutMs: number,
  startWhen: () => Promise<boolean> = async () => true,
) {
  const procs = Array.isArray(children) ? children : [children];
  const cpuOfAll = () => procs.reduce((sum, c) => sum + cpuMsOf(c.pid) / 1000, 0);
  const started = Date.now();
  let firstAt = 0;
  let countedFrom = 0;
  let peak = 0;
  let cpuAtFirst = 0;
  let machineAtFirst = machineCpuMs();
  for (;;) {
    for (const child of procs) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`an ingest process exited (${child.exitCode ?? child.signalCode}) before its ${target} jobs were out`);
    }
    const n = await outputCount();
    if (n > 0 && firstAt === 0 && (await startWhen())) {
      firstAt = Date.now();
      countedFrom = n;
      cpuAtFirst = cpuOfAll();
      machineAtFirst = machineCpuMs();
    }
    for (const child of procs) peak = Math.max(peak, peakRssMbOf(child.pid));
    if (n >= target) {
      if (firstAt === 0) throw new Error(`all ${target} jobs were out before the measurement window opened; raise BENCH_REQUESTS`);
      const machine = machineCpuMs();
      return {
        doneAt: Date.now(),
        firstAt,
        countedFrom,
        peakRssMb: peak,
        count: n,
        // CPU time is what the work costs whatever else runs; wall time depends on the neighbours.
        ingestCpuSeconds: cpuOfAll() - cpuAtFirst,
        machineBusyRatio: (machine.busy - machineAtFirst.busy) / Math.max(1, machine.total - machineAtFirst.total),
        loadAverage: os.loadavg()[0],
      };
    }
    if (Date.now() - started > timeoutMs) throw new Error(`only ${n} of ${target} jobs after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

const templates = [
  { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
  { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] },
  { name: 'otp_code', language: 'en_US', category: 'authentication', bodyParams: ['123456'], buttonParams: [{ index: 0, subType: 'url', text: '123456' }] },
];

await admin.connect();
await producer.connect();
await redis.connect();
const report: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, node: process.version, loadAverageAtStart: os.loadavg()[0] },
  serviceNodeOptions: SERVICE_NODE_OPTIONS,
  requests: REQUESTS,
  audience: AUDIENCE,
};
try {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [requestTopic, topicName(topics.notificationsDlq, prefix), ...laneTopics].map((topic) => ({
      topic,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
    })),
  });

  // 1. throughput of single-recipient requests.
  const sendStarted = Date.now();
  for (let i = 0; i < REQUESTS; i += 5_000) {
    const messages = [];
    for (let j = i; j < Math.min(REQUESTS, i + 5_000); j++) {
      const template = templates[j % 10 === 0 ? 2 : j % 10 < 4 ? 1 : 0]!;
      const value = {
        v: 1,
        idempotencyKey: `bench-${j}`,
        sender: { phoneNumberId: '106540352242922' },
        to: `+49151${String(20_000_000 + j)}`,
        template,
        campaignId: 'bench',
      };
      messages.push({ key: value.idempotencyKey, value: JSON.stringify(value) });
    }
    await producer.send({ topic: requestTopic, acks: -1, messages });
  }
  const preloadMs = Date.now() - sendStarted;
  // Each replica count reads the same requests with a fresh group and fresh Redis keys (no claims left over).
  for (const replicas of REPLICA_COUNTS) {
    const base = await outputCount();
    const group = uniqueName(`bench-ing-r${replicas}`);
    const keyPrefix = `${redisPrefix}r${replicas}:`;
    const children = Array.from({ length: replicas }, () => startService(group, keyPrefix));
    const startedAt = Date.now();
    const t = await waitForOutputs(base + REQUESTS, children, 600_000, replicas > 1 ? () => groupSettled(group, replicas) : undefined);
    await Promise.all(children.map(stop));
    const measured = base + REQUESTS - t.countedFrom;
    const steadyMs = t.doneAt - t.firstAt;
    report[replicas === 1 ? 'throughput' : `throughputReplicas${replicas}`] = {
      replicas,
      requests: REQUESTS,
      measuredJobs: measured,
      preloadMs,
      wallMsIncludingStartup: t.doneAt - startedAt,
      firstToLastMs: steadyMs,
      jobsPerSecond: Math.round(measured / (steadyMs / 1000)),
      jobsPerSecondIncludingStartup: Math.round(REQUESTS / ((t.doneAt - startedAt) / 1000)),
      peakRssMb: t.peakRssMb,
      ingestCpuMicrosPerJob: Math.round((t.ingestCpuSeconds * 1e6) / measured),
      machineBusyRatio: Number(t.machineBusyRatio.toFixed(2)),
      loadAverageAtEnd: t.loadAverage,
    };
  }

  // 2. one broadcast of AUDIENCE recipients, streamed from a file.
  const audienceFile = `million.${AUDIENCE_FORMAT}`;
  const file = join(audienceRoot, audienceFile);
  const out = createWriteStream(file);
  if (AUDIENCE_FORMAT === 'csv') out.write('to,body.1,body.2\n');
  const row =
    AUDIENCE_FORMAT === 'csv'
      ? (j: number) => `+49152${String(10_000_000 + j)},O-${j},"shipped, ""today"""\n`
      : (j: number) => `{"to":"+49152${String(10_000_000 + j)}","bodyParams":["O-${j}","shipped"]}\n`;
  for (let i = 0; i < AUDIENCE; i += 10_000) {
    let chunk = '';
    for (let j = i; j < Math.min(AUDIENCE, i + 10_000); j++) chunk += row(j);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const base = await outputCount();
  const child = startService(uniqueName('bench-ing-g2'));
  await new Promise((r) => setTimeout(r, 1_000));
  const bStart = Date.now();
  await producer.send({
    topic: requestTopic,
    acks: -1,
    messages: [
      {
        key: 'bench-broadcast',
        value: JSON.stringify({
          v: 1,
          idempotencyKey: 'bench-broadcast',
          sender: { pool: 'acme-main' },
          audience: { path: audienceFile, format: AUDIENCE_FORMAT },
          template: { name: 'order_update', language: 'en_US', category: 'utility' },
          campaignId: 'bench',
        }),
      },
    ],
  });
  const b = await waitForOutputs(base + AUDIENCE, child, 900_000);
  const peak = peakRssMbOf(child.pid);
  await stop(child);
  report.broadcast = {
    recipients: AUDIENCE,
    format: AUDIENCE_FORMAT,
    wallMs: b.doneAt - bStart,
    recipientsPerSecond: Math.round(AUDIENCE / ((b.doneAt - bStart) / 1000)),
    peakRssMb: Math.max(peak, b.peakRssMb),
    targetPeakRssMb: 300,
    ingestCpuMicrosPerJob: Math.round((b.ingestCpuSeconds * 1e6) / AUDIENCE),
    machineBusyRatio: Number(b.machineBusyRatio.toFixed(2)),
    loadAverageAtEnd: b.loadAverage,
  };
} finally {
  await producer.disconnect();
  await deleteTopics(admin, [requestTopic, topicName(topics.notificationsDlq, prefix), ...laneTopics]);
  await admin.disconnect();
  await deleteKeysWithPrefix(redis, redisPrefix);
  await redis.quit();
  rmSync(audienceRoot, { recursive: true, force: true });
}

const bc = report.broadcast as Record<string, number>;
const rows: { measure: string; value: string; target: string }[] = [];
for (const replicas of REPLICA_COUNTS) {
  const tp = report[replicas === 1 ? 'throughput' : `throughputReplicas${replicas}`] as Record<string, number>;
  const who = replicas === 1 ? '1 ingest process' : `${replicas} ingest processes, one group`;
  rows.push(
    { measure: `single-recipient requests → dispatch jobs (${who})`, value: `${tp.jobsPerSecond} jobs/s`, target: '≥ 20000 jobs/s' },
    {
      measure: `  ingest CPU per job (all ${who === '1 ingest process' ? 'of it' : 'of them'}; independent of neighbours)`,
      value: `${tp.ingestCpuMicrosPerJob} µs`,
      target: '',
    },
    { measure: '  machine busy (all processes, in the window)', value: `${Math.round((tp.machineBusyRatio ?? 0) * 100)} %`, target: '' },
    { measure: '  including process start + group join', value: `${tp.jobsPerSecondIncludingStartup} jobs/s`, target: '' },
    { measure: `  peak RSS (${tp.requests} requests)`, value: `${tp.peakRssMb} MB`, target: '' },
  );
}
rows.push(
  {
    measure: `broadcast expansion (${bc.recipients} recipients, ${AUDIENCE_FORMAT})`,
    value: `${bc.recipientsPerSecond} jobs/s in ${((bc.wallMs ?? 0) / 1000).toFixed(1)} s`,
    target: '',
  },
  { measure: '  ingest CPU per broadcast job', value: `${bc.ingestCpuMicrosPerJob} µs`, target: '' },
  { measure: '  peak RSS while expanding the broadcast', value: `${bc.peakRssMb} MB`, target: '< 300 MB' },
);
console.log('\ningest benchmark');
console.table(rows);
mkdirSync(join(root, 'bench/reports'), { recursive: true });
writeFileSync(join(root, 'bench/reports/ingest.json'), `${JSON.stringify({ ...report, measuredAt: new Date().toISOString() }, null, 2)}\n`);
console.log('wrote bench/reports/ingest.json');
