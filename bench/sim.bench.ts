import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createManualClock, createSimulator, type ScenarioInput } from '@wa/cloud-api-sim';

/**
 * npm run bench:sim — the simulator alone under keep-alive load from a separate process, with
 * rate limits set high and every accepted message's webhooks emitted to a receiver (a third
 * process). Then a memory phase holding 1,000,000 accepted messages.
 * Env: BENCH_SIM_SECONDS (default 20), BENCH_SIM_INFLIGHT (128), BENCH_SIM_MESSAGES (1000000).
 */
const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SIM_SECONDS ?? 20);
const inFlight = Number(process.env.BENCH_SIM_INFLIGHT ?? 128);
const memMessages = Number(process.env.BENCH_SIM_MESSAGES ?? 1_000_000);
const PHONES = Array.from({ length: 32 }, (_, i) => String(106540352242900 + i));
const TOKEN = 'bench-token-0001';

function scenario(): ScenarioInput {
  return {
    seed: 11,
    pricing: { model: 'PMP', pmpConversationObject: false },
    rules: { pairRate: { burst: 10, intervalMs: 1000 } },
    population: { notOnWhatsAppFraction: 0.01, optedOutMarketingFraction: 0, experimentFraction: 0, replyFraction: 0, stopFraction: 0, readFraction: 0.7 },
    webhooks: {
      delaysMs: { sent: [5, 50], delivered: [50, 200], read: [100, 500] },
      batchFraction: 1,
      maxBatchSize: 100,
      duplicateFraction: 0,
      outOfOrderFraction: 0.02,
      skipDeliveredFraction: 0,
      concurrency: 16,
      tickMs: 20,
    },
    businesses: [
      {
        id: 'bench-biz',
        messagingLimit: 'unlimited',
        wabas: [
          {
            id: '900000000000001',
            accessTokens: [TOKEN],
            phoneNumbers: PHONES.map((id, i) => ({ id, displayPhoneNumber: `1555000${String(i).padStart(4, '0')}`, throughputMps: 1000 })),
            templates: [{ name: 'order_update', language: 'en_US', category: 'utility', params: { body: 1, buttons: [1] } }],
          },
        ],
      },
    ],
  };
}

function child(file: string): ChildProcess {
  return fork(join(here, file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
function once<T>(cp: ChildProcess): Promise<T> {
  return new Promise((resolve) => cp.once('message', (m) => resolve(m as T)));
}

async function throughputPhase() {
  const receiver = child('sim/receiver.ts');
  const { port } = await once<{ port: number }>(receiver);
  const sim = createSimulator({ scenario: scenario(), webhookUrl: `http://127.0.0.1:${port}/webhook` });
  const url = await sim.start(0);
  const load = child('sim/load.ts');
  const cpu0 = process.cpuUsage();
  load.send({ url, token: TOKEN, phones: PHONES, durationMs: seconds * 1000, inFlight, connections: 64 });
  const r = await once<{ sent: number; elapsedMs: number; byStatus: Record<string, number>; p50Ms: number; p99Ms: number; maxMs: number }>(load);
  const cpu = process.cpuUsage(cpu0);
  // Let the remaining webhooks (read receipts up to 500 ms later) go out.
  const t0 = Date.now();
  let st = sim.stats() as any;
  while ((st.statusesPending > 0 || st.webhooks.pending > 0) && Date.now() - t0 < 30_000) {
    await new Promise((res) => setTimeout(res, 200));
    st = sim.stats() as any;
  }
  receiver.send('counts');
  const rc = await once<{ posts: number; statuses: number; inbound: number; badSignatures: number }>(receiver);
  receiver.send('exit');
  await sim.close();
  const emitted = Object.values(st.statusesEmitted as Record<string, number>).reduce((a, b) => a + b, 0);
  const peaks = Object.values(st.phoneNumbers as Record<string, { peakRequestsPerSecond: number }>).map((p) => p.peakRequestsPerSecond);
  return {
    seconds: r.elapsedMs / 1000,
    requests: r.sent,
    accepted: st.accepted as number,
    httpStatuses: r.byStatus,
    requestsPerSecond: r.sent / (r.elapsedMs / 1000),
    acceptedPerSecond: (st.accepted as number) / (r.elapsedMs / 1000),
    latencyP50Ms: r.p50Ms,
    latencyP99Ms: r.p99Ms,
    latencyMaxMs: r.maxMs,
    simCpuSecondsPerSecond: (cpu.user + cpu.system) / 1e6 / (r.elapsedMs / 1000),
    peakRequestsPerSecondPerNumber: Math.max(...peaks),
    statusesEmitted: emitted,
    statusesEmittedByKind: st.statusesEmitted,
    webhookPosts: st.webhooks.posts as number,
    webhookAcknowledged: st.webhooks.acknowledged as number,
    webhookAbandoned: st.webhooks.abandoned as number,
    webhookPendingAtEnd: st.webhooks.pending as number,
    receiverPosts: rc.posts,
    receiverStatuses: rc.statuses,
    receiverBadSignatures: rc.badSignatures,
  };
}

async function memoryPhase() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const clock = createManualClock();
  const s = scenario();
  const sim = createSimulator({ scenario: { ...s, webhooks: { ...s.webhooks, delaysMs: { sent: [0, 0], delivered: [0, 0], read: [0, 0] } } }, clock });
  const t0 = performance.now();
  for (let n = 0; n < memMessages; n++) {
    if (n % 16_000 === 0) clock.advance(1000);
    const r = sim.core.send(PHONES[n % PHONES.length]!, `Bearer ${TOKEN}`, {
      messaging_product: 'whatsapp',
      to: String(4_480_000_000_000 + n),
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: 'x' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'y' }] },
        ],
      },
      biz_opaque_callback_data: `job-${n}`,
    });
    if (r.httpStatus !== 200) throw new Error(`memory phase: send ${n} refused: ${JSON.stringify(r.body)}`);
    if (n % 10_000 === 0) sim.core.tick(); // statuses are emitted (no receiver) as they fall due
  }
  clock.advance(10_000);
  sim.core.tick();
  const elapsed = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  const st = sim.stats() as any;
  await sim.close();
  return {
    messages: st.memory.messages as number,
    inProcessSendsPerSecond: memMessages / (elapsed / 1000),
    heapDeltaMB: (after.heapUsed - before.heapUsed) / 2 ** 20,
    externalDeltaMB: (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / 2 ** 20,
    rssMB: after.rss / 2 ** 20,
    bytesPerMessage: (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / memMessages,
    messageColumnsMB: st.memory.messageColumnsBytes / 2 ** 20,
  };
}

const tp = await throughputPhase();
const mem = await memoryPhase();
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: [string, string][] = [
  ['duration (s)', fmt(tp.seconds, 1)],
  ['send requests', fmt(tp.requests)],
  ['accepted (HTTP 200)', fmt(tp.accepted)],
  ['requests/s (keep-alive, separate process)', fmt(tp.requestsPerSecond)],
  ['accepted/s', fmt(tp.acceptedPerSecond)],
  ['HTTP statuses', JSON.stringify(tp.httpStatuses)],
  ['response latency p50 / p99 / max (ms)', `${fmt(tp.latencyP50Ms, 1)} / ${fmt(tp.latencyP99Ms, 1)} / ${fmt(tp.latencyMaxMs, 1)}`],
  ['simulator CPU (cores busy)', fmt(tp.simCpuSecondsPerSecond, 2)],
  ['status webhooks emitted', fmt(tp.statusesEmitted)],
  ['statuses received (signature-checked)', `${fmt(tp.receiverStatuses)} (${tp.receiverBadSignatures} bad signatures)`],
  ['webhook POSTs / acknowledged / abandoned', `${fmt(tp.webhookPosts)} / ${fmt(tp.webhookAcknowledged)} / ${tp.webhookAbandoned}`],
  [`memory: ${fmt(mem.messages)} accepted messages held`, `${fmt(mem.bytesPerMessage)} B/message (heap+buffers), rss ${fmt(mem.rssMB)} MB`],
  ['in-process send pipeline (no HTTP)', `${fmt(mem.inProcessSendsPerSecond)} sends/s`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log('\ncloud-api-sim benchmark');
console.log('-'.repeat(w + 30));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
const target = 5000;
const pass = tp.acceptedPerSecond >= target && tp.receiverStatuses === tp.statusesEmitted && tp.receiverBadSignatures === 0 && mem.messages >= 1_000_000;
console.log(`\ntarget ≥ ${target} req/s with all webhooks delivered and ≥ 1,000,000 messages held: ${pass ? 'PASS' : 'FAIL'}`);
const out = join(here, 'reports', 'sim.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      benchmark: 'cloud-api-sim',
      at: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      config: { seconds, inFlight, phoneNumbers: PHONES.length },
      throughput: tp,
      memory: mem,
      target: { requestsPerSecond: target },
      pass,
    },
    null,
    2,
  ),
);
console.log(`report: ${out}`);
process.exit(pass ? 0 : 1);
