import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, topics } from '@wa/shared';
import { startClusterInfra, lagByGroup, leaderOfMostPartitions, type ClusterInfra } from '../../src/cluster-infra';
import { simStats, submitBroadcast, waitForCompletion, type SubmittedBroadcast } from '../../src/drill-harness';
import { collectOutcomes, campaignReport, type OutcomeTally } from '../../src/outcomes';
import { freePorts } from '../../src/ports';
import { startProcess, stopProcess, waitReady, type ManagedProcess } from '../../src/processes';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../src/round-robin-proxy';
import { SERVICE_ENTRIES, startStack, type RunningStack } from '../../src/stack';

/**
 * Cluster drill (`npm run test:cluster`): the pipeline as processes against a three-node Kafka
 * cluster (replication factor 3, min.insync.replicas 2), two replicas of the dispatcher, the
 * webhook receiver (behind a round-robin balancer), the normaliser and ingest. Mid-broadcast the
 * broker leading the most dispatch partitions is killed (-9) and later restarted, one replica of
 * each consumer is stopped gracefully and restarted, and one is killed (-9) and restarted. Then:
 * no duplicate send (simulator ground truth), no lost job (one terminal outcome each, every sent
 * message its final status), no 130429 across replicas, every consumer group caught up.
 */
const root = resolve(__dirname, '../../../..');
const runId = Date.now().toString(36);
const dataDir = resolve(root, `.data/cluster-drill/${runId}`);
const prefix = `cluster-${runId}.`;
const SALE = { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] };
const REMINDER = { name: 'table_reminder', language: 'en_US', category: 'utility', bodyParams: ['7 pm', 'Friday'] };
const AUDIENCE = Number(process.env.CLUSTER_DRILL_AUDIENCE ?? 4_000);
/**
 * 130429 answers tolerated (each is retried: nothing is lost or sent twice). Most runs draw none; on a loaded
 * 2-core machine about one in four draws 1-3 during the broker failover (inbound messages the send guard had not
 * seen, or sends written late while leaders moved: docs/deploy.md#kafka-cluster-and-replicas). More than 3 is a
 * pacing regression. CLUSTER_DRILL_MAX_THROTTLED=0 asks for none; the drill prints when each came and what the
 * simulator saw in the refused second.
 */
const MAX_THROTTLED = Number(process.env.CLUSTER_DRILL_MAX_THROTTLED ?? 3);
/** Ten service processes and three brokers share the machine: a restart may take a while. */
const READY_TIMEOUT_MS = 240_000;

type Replica = { name: string; entry: string; env: Record<string, string>; readyUrl: string; proc?: ManagedProcess };

let cluster: ClusterInfra;
let stack: RunningStack;
let balancer: RoundRobinProxy;
let kafka: Kafka;
let admin: Admin;
let tally: OutcomeTally;
let stopCollector: () => Promise<void>;
const extras: Replica[] = [];

/** A drill catalogue: the demo's businesses and templates, both numbers at Meta's default 80 msg/s (a longer broadcast). */
function drillCatalog(): string {
  const catalog = JSON.parse(readFileSync(resolve(root, 'config/catalog.demo.json'), 'utf8'));
  for (const phone of catalog.phoneNumbers) phone.throughputMps = 80;
  const path = join(dataDir, 'catalog.json');
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

async function startReplica(replica: Replica): Promise<void> {
  replica.proc = startProcess(
    root,
    join(dataDir, 'logs'),
    { name: replica.name, entry: replica.entry, env: replica.env, readyUrl: replica.readyUrl },
    process.env,
  );
  await waitReady(replica.proc, READY_TIMEOUT_MS);
}

/** Pacing counters of each dispatcher replica (wa_dispatch_late_writes_total and the like), to tell what preceded a 130429. */
async function pacingCounters(urls: string[]): Promise<string> {
  const names = ['late_writes', 'late_answers', 'connection_waits'];
  const parts = await Promise.all(
    urls.map(async (url) => {
      const text = await fetch(`${url}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
      return names.map((n) => `${n}=${new RegExp(`^wa_dispatch_${n}_total(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? '?'}`).join(' ');
    }),
  );
  return parts.map((p, i) => `dispatcher-${i + 1}: ${p}`).join('; ');
}

function terminalOf(broadcasts: SubmittedBroadcast[]) {
  return broadcasts.reduce((n, b) => n + campaignReport(tally, b.campaignId).terminal, 0);
}

async function waitForShare(broadcasts: SubmittedBroadcast[], share: number, timeoutMs: number): Promise<void> {
  const expected = broadcasts.reduce((n, b) => n + b.expectedJobs, 0);
  const deadline = Date.now() + timeoutMs;
  while (terminalOf(broadcasts) < expected * share) {
    if (Date.now() > deadline) throw new Error(`${share * 100}% of ${expected} jobs not done in ${timeoutMs} ms (${terminalOf(broadcasts)} done)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('cluster drill', () => {
  beforeAll(async () => {
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    cluster = await startClusterInfra(root);
    const [ingest, dispatcher, webhook, analytics, sim, ingest2, dispatcher2, receiver2, normaliser1, normaliser2] = await freePorts(10);
    balancer = await startRoundRobinProxy([webhook!, receiver2!]);
    stack = await startStack({
      root,
      catalogPath: drillCatalog(),
      dataDir,
      kafkaBrokers: cluster.brokers,
      topicPrefix: prefix,
      redisKeyPrefix: prefix,
      readyTimeoutMs: READY_TIMEOUT_MS,
      ports: { ingest: ingest!, dispatcher: dispatcher!, webhook: webhook!, analytics: analytics!, sim: sim! },
      serviceEnv: {
        // The receivers only receive; the normalisers run as their own replicas below.
        webhook: { NORMALISER_ENABLED: 'false', LOG_LEVEL: 'warn' },
        // The simulator's people reply to 5 % of messages within a minute, and the failover stalls the webhook path
        // for seconds, when the dispatchers cannot see them: the share left for inbound covers them (docs/deploy.md).
        dispatcher: { LOG_LEVEL: 'warn', INBOUND_HEADROOM_FRACTION: '0.1' },
        ingest: { LOG_LEVEL: 'warn' },
        analytics: { LOG_LEVEL: 'warn' },
        sim: { SIM_WEBHOOK_URL: `http://127.0.0.1:${balancer.port}/webhook` },
      },
      sim: {
        delaysMs: { sent: [20, 100], delivered: [100, 500], read: [200, 1000] },
        webhooks: { retry: { baseMs: 500, factor: 2, maxDelayMs: 4_000, maxAttempts: 40, maxAgeMs: 600_000 } },
      },
    });
    const url = (port: number) => `http://127.0.0.1:${port}/readyz`;
    extras.push(
      { name: 'ingest-2', entry: SERVICE_ENTRIES.ingest, env: { ...stack.env.ingest, HTTP_PORT: String(ingest2) }, readyUrl: url(ingest2!) },
      {
        name: 'dispatcher-2',
        entry: SERVICE_ENTRIES.dispatcher,
        env: { ...stack.env.dispatcher, HTTP_PORT: String(dispatcher2) },
        readyUrl: url(dispatcher2!),
      },
      { name: 'webhook-2', entry: SERVICE_ENTRIES.webhook, env: { ...stack.env.webhook, HTTP_PORT: String(receiver2) }, readyUrl: url(receiver2!) },
      ...[normaliser1!, normaliser2!].map((port, i) => ({
        name: `normaliser-${i + 1}`,
        entry: SERVICE_ENTRIES.webhook,
        env: { ...stack.env.webhook, HTTP_PORT: String(port), WEBHOOK_RECEIVER_ENABLED: 'false', NORMALISER_ENABLED: 'true' },
        readyUrl: url(port),
      })),
    );
    for (const replica of extras) await startReplica(replica);
    kafka = createKafka({ brokers: cluster.brokers.split(','), clientId: 'cluster-drill', logger: pino({ level: 'silent' }) });
    admin = kafka.admin();
    await admin.connect();
    ({ tally, stop: stopCollector } = await collectOutcomes(kafka, prefix));
  }, 600_000);

  afterAll(async () => {
    await stopCollector?.().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    for (const replica of extras) if (replica.proc) await stopProcess(replica.proc, 30_000);
    await stack?.stop();
    await balancer?.close();
    await cluster?.stop();
  }, 180_000);

  it('a broker lost mid-broadcast, replicas stopped and killed: nothing lost, nothing sent twice, 130429s within the allowance', async () => {
    const replica = (name: string) => extras.find((r) => r.name === name)!;
    const broadcasts = [
      await submitBroadcast(stack, { campaignId: `cluster-acme-${runId}`, size: AUDIENCE, seed: 21, pool: 'acme-main', template: SALE, dataDir }),
      await submitBroadcast(stack, { campaignId: `cluster-bistro-${runId}`, size: AUDIENCE, seed: 22, pool: 'bistro-main', template: REMINDER, dataDir }),
    ];
    const jobs = broadcasts.reduce((n, b) => n + b.expectedJobs, 0);
    const t0 = Date.now();
    const dispatcherUrls = [stack.urls.dispatcher, replica('dispatcher-2').readyUrl.replace(/\/readyz$/, '')];
    const at = () => `${terminalOf(broadcasts)}/${jobs} jobs done, +${((Date.now() - t0) / 1000).toFixed(1)} s`;

    // The longest time no job reached a terminal outcome once the first fault was injected, and
    // when the simulator answered 130429 (to tell which fault, if any, it followed).
    let longestStallMs = 0;
    let watching = true;
    const throttleTimeline: string[] = [];
    const watcher = (async () => {
      let last = terminalOf(broadcasts);
      let lastChange = Date.now();
      let throttledSoFar = 0;
      let lastStats = 0;
      while (watching) {
        if (Date.now() - lastStats > 2_000) {
          lastStats = Date.now();
          const throttledNow: number = (await simStats(stack).catch(() => undefined))?.rejectedByCode?.['130429'] ?? throttledSoFar;
          if (throttledNow > throttledSoFar)
            throttleTimeline.push(`+${throttledNow - throttledSoFar} × 130429 by ${at()} (${await pacingCounters(dispatcherUrls)})`);
          throttledSoFar = throttledNow;
        }
        const now = terminalOf(broadcasts);
        if (now !== last) {
          longestStallMs = Math.max(longestStallMs, Date.now() - lastChange);
          last = now;
          lastChange = Date.now();
        }
        if (now >= jobs) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await waitForShare(broadcasts, 0.1, 180_000);
    const dispatchTopics = [...Object.values(topics.dispatchJobs), ...topics.dispatchRetry.map((r) => r.topic)].map((t) => prefix + t.name);
    const lost = await leaderOfMostPartitions(admin, dispatchTopics);
    await cluster.kill(lost.node);
    console.log(`killed broker ${lost.node} (leader of ${lost.led} of ${lost.total} dispatch partitions) at ${at()}`);

    // The broker comes back after at least 20 s (leaders moved, groups rebalanced without it).
    await Promise.all([waitForShare(broadcasts, 0.25, 300_000), new Promise((r) => setTimeout(r, 20_000))]);
    await cluster.startNode(lost.node);
    console.log(`broker ${lost.node} back at ${at()}`);

    await waitForShare(broadcasts, 0.4, 300_000);
    console.log(`stopping one replica of each consumer gracefully at ${at()}`);
    await Promise.all(
      ['dispatcher-2', 'normaliser-2', 'ingest-2'].map(async (name) => {
        await stopProcess(replica(name).proc!, 30_000);
        await startReplica(replica(name));
      }),
    );
    console.log(`restarted them at ${at()}`);

    await waitForShare(broadcasts, 0.6, 300_000);
    console.log(`killing (-9) one replica of each consumer at ${at()}`);
    const normaliser = replica('normaliser-1').proc!;
    normaliser.child.kill('SIGKILL');
    await normaliser.exited;
    await Promise.all([stack.restart('dispatcher', 'kill'), stack.restart('ingest', 'kill'), startReplica(replica('normaliser-1'))]);
    console.log(`restarted them at ${at()}`);

    const reports = [];
    for (const b of broadcasts) reports.push(await waitForCompletion(tally, b, { stallMs: 120_000, requireFinalStatus: true }));
    console.log(`complete at ${at()}`);
    watching = false;
    await watcher;

    const sim = await simStats(stack);
    const throttled: number = sim.rejectedByCode['130429'] ?? 0;
    const terminal = reports.reduce((n, r) => n + r.terminal, 0);
    const lostJobs = jobs - terminal;
    console.log(
      `cluster drill: jobs=${jobs} lost=${lostJobs} duplicates=${sim.duplicateSends.count} throttled=${throttled} rebalance_s=${(longestStallMs / 1000).toFixed(1)}`,
    );
    expect(sim.duplicateSends.count, `duplicate sends: ${JSON.stringify(sim.duplicateSends.items?.slice(0, 5))}`).toBe(0);
    expect(lostJobs, `jobs without a terminal outcome: ${JSON.stringify(reports)}`).toBe(0);
    for (const r of reports) {
      expect(r.conflicting, 'jobs with more than one terminal outcome').toEqual([]);
      expect(r.sentWithFinalStatus, 'sent messages with a final status').toBe(r.sent);
    }
    console.log(`pacing counters at the end: ${await pacingCounters(dispatcherUrls)}`);
    if (throttled > 0) console.log(`130429 timeline: ${throttleTimeline.join('; ')}\n130429 windows (simulator): ${JSON.stringify(sim.throttleEvents)}`);
    expect(throttled, `130429 answers across dispatcher replicas: ${throttleTimeline.join('; ')}`).toBeLessThanOrEqual(MAX_THROTTLED);
    expect(balancer.forwarded.size).toBe(2);
    expect(
      [...balancer.forwarded.values()].every((n) => n > 0),
      `webhook deliveries per receiver: ${JSON.stringify([...balancer.forwarded])}`,
    ).toBe(true);

    // Every consumer group of this run caught up on its own (the analytics writer included).
    let lag: Map<string, number>;
    // Analytics writes to chdb in batches: on a loaded machine it can need a minute or more after the last outcome.
    const deadline = Date.now() + 180_000;
    do {
      lag = await lagByGroup(admin, prefix);
      if ([...lag.values()].every((n) => n === 0)) break;
      await new Promise((r) => setTimeout(r, 1_000));
    } while (Date.now() < deadline);
    expect(Object.fromEntries(lag), 'consumer lag per group').toEqual(Object.fromEntries([...lag.keys()].map((g) => [g, 0])));
  }, 1_200_000);
});
