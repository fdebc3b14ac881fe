/**
 * Webhook receiver benchmark: signed, realistic Cloud API webhooks (mixed statuses with pricing,
 * some batched, some inbound) sent open-loop at a fixed rate to the webhook service running as its
 * own process against the real broker, then every payload is counted on wa.webhooks.raw.
 *
 *   npm run bench:webhook
 *   BENCH_DURATION_S=60 BENCH_RATE=2000 BENCH_STEP_RATES=2000,3000,4000,5000,6000 BENCH_STEP_S=10
 *   BENCH_NORMALISER=process|inline|off   (default process: the production topology, a receiver
 *   replica and a normaliser replica as two processes on this same machine)
 *
 * Latency is measured from each request's *scheduled* send time (not from when the client got
 * round to sending it), so a stalled server cannot hide its queueing (coordinated omission).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { z } from 'zod';
import { commonEnv, env, loadConfig } from '@wa/shared/config';
import { createKafka, ensureTopics } from '@wa/shared/kafka';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { createLogger } from '@wa/shared/logger';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, uniqueName } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import { cpuMsOf, machineCpuMs } from './lib/proc-stats';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const config = loadConfig(
  z.object({
    KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
    REDIS_URL: commonEnv.REDIS_URL,
    BENCH_DURATION_S: env.int('sustained phase duration', 60, 1),
    BENCH_RATE: env.int('sustained phase rate (requests/s)', 2_000, 1),
    BENCH_STEP_RATES: env.list('step-up rates (requests/s)', '2000,3000,4000,5000,6000,8000'),
    BENCH_STEP_S: env.int('duration of each step-up rate', 10, 1),
    BENCH_WARMUP_S: env.int('seconds at the sustained rate before it is measured (not counted)', 5, 0),
    BENCH_CONNECTIONS: env.int('keep-alive connections of the load client', 128, 1),
    BENCH_CLIENT: z.enum(['raw', 'undici']).default('raw').describe('load client: minimal keep-alive HTTP/1.1 over raw sockets (least CPU) or an undici Pool'),
    BENCH_PARTITIONS: env.int('partitions of the benchmark topics', 6, 1),
    BENCH_NORMALISER: z
      .enum(['process', 'inline', 'off'])
      .default('process')
      .describe('where the normaliser runs during the benchmark: its own process (production topology), inside the receiver process, or not at all'),
    BENCH_PORT: env.int('port of the service under test', 18083, 1),
    BENCH_REPORT: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('webhook')
      .describe('report name: bench/reports/<name>.json'),
    BENCH_SERVICE_NODE_ARGS: z.string().default('').describe('extra node flags for the service process, e.g. --cpu-prof'),
  }),
);

const SECRET = randomBytes(16).toString('hex');
const PREFIX = `${uniqueName('bench-wh')}.`;
const RAW_TOPIC = topicName(topics.webhooksRaw, PREFIX);
const PHONE_IDS = ['106540352242922', '106540352242923'];
const CATEGORIES = ['utility', 'marketing', 'authentication'];

// ───────────────────────── payloads ─────────────────────────

let seq = 0;
const T0 = Math.floor(Date.now() / 1000);

function statusObj(): Record<string, unknown> {
  seq += 1;
  const r = Math.random();
  const st = r < 0.35 ? 'sent' : r < 0.7 ? 'delivered' : r < 0.97 ? 'read' : 'failed';
  const category = CATEGORIES[seq % 3]!;
  const s: Record<string, unknown> = {
    id: `wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI${seq.toString(16).toUpperCase().padStart(12, '0')}`,
    status: st,
    timestamp: String(T0 + (seq % 600)),
    recipient_id: `1650555${String(seq % 10_000).padStart(4, '0')}`,
    biz_opaque_callback_data: `job-${seq}`,
  };
  if (st !== 'failed') {
    s.pricing = { billable: category !== 'service', pricing_model: 'PMP', category, type: 'regular' };
  } else {
    s.errors = [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' } }];
  }
  return s;
}

function payload(): string {
  const r = Math.random();
  const phone = PHONE_IDS[seq % 2]!;
  const metadata = { display_phone_number: phone === PHONE_IDS[0] ? '15550783881' : '15550783882', phone_number_id: phone };
  let value: Record<string, unknown>;
  if (r < 0.05) {
    seq += 1;
    const from = `4479${String(seq % 100_000).padStart(8, '0')}`;
    value = {
      messaging_product: 'whatsapp',
      metadata,
      contacts: [{ profile: { name: 'Zoë' }, wa_id: from }],
      messages: [
        { from, id: `wamid.IN${seq.toString(16)}`, timestamp: String(T0), type: 'text', text: { body: seq % 10 === 0 ? 'STOP' : 'Où est ma commande ?' } },
      ],
    };
  } else {
    const n = r < 0.8 ? 1 : 2 + Math.floor(Math.random() * 9); // 20% batched, 2–10 statuses
    value = { messaging_product: 'whatsapp', metadata, statuses: Array.from({ length: n }, statusObj) };
  }
  const body = { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ value, field: 'messages' }] }] };
  // Meta escapes non-ASCII and "/": the signature must be over these exact bytes.
  return JSON.stringify(body)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

// ───────────────────────── load ─────────────────────────

interface PhaseResult {
  rate: number;
  durationS: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  throughputRps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  over1sPct: number;
  meanBodyBytes: number;
  statusesPerPayload: number;
  /** p99 of the requests due in each second of the phase: shows whether slow requests are spread or bunched in stalls. */
  p99MsPerSecond: number[];
  /** The load process's own event-loop delay: if high, part of the latency is the client's, not the service's. */
  clientLoopDelayP99Ms: number;
  clientLoopDelayMaxMs: number;
  /** CPU in cores during the phase: load generator, receiver, normaliser, and the rest (broker, Redis, anything else). */
  cpuCores: ReturnType<typeof cpuCores>;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** A prepared request: body and signature computed before the clock starts. */
interface Prepared {
  body: string;
  signature: string;
  /** The whole request as the raw client writes it (head + body). */
  bytes?: Buffer;
}

/**
 * How requests reach the service. `send` issues one request at once (or queues it FIFO behind the
 * busy connections — the wait counts, latency is from the due time) and calls `done` with the HTTP
 * status (0 = transport error) once the whole response has arrived.
 */
interface LoadClient {
  readonly name: string;
  /** Called while preparing (before the clock starts): precompute whatever the client sends. */
  prepare(req: Prepared): Prepared;
  send(req: Prepared, done: (status: number) => void): void;
  close(): Promise<void>;
}

function undiciClient(base: string, connections: number): LoadClient {
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  return {
    name: `undici Pool (${connections} keep-alive connections, no pipelining)`,
    prepare: (req) => req,
    send({ body, signature }, done) {
      pool
        .request({
          path: '/webhook',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'user-agent': 'facebookexternalua' },
          body,
        })
        .then(
          async (res) => {
            await res.body.dump();
            done(res.statusCode);
          },
          () => done(0),
        );
    },
    close: () => pool.close(),
  };
}

/**
 * A minimal HTTP/1.1 keep-alive client (like wrk): each request is one precomputed buffer written
 * to an idle connection, each connection has at most one request outstanding (no pipelining), and
 * a response is complete once its headers and `content-length` bytes have arrived. It spends far
 * less CPU per request than undici's promise/stream machinery, which matters because the load
 * generator shares the two cores with the service and the broker — it changes nothing about what
 * is measured (due time → last byte of the response).
 */
function rawClient(base: string, connections: number): LoadClient {
  const { hostname, port } = new URL(base);
  const head = (req: Prepared) =>
    `POST /webhook HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\nx-hub-signature-256: ${req.signature}\r\nuser-agent: facebookexternalua\r\ncontent-length: ${Buffer.byteLength(req.body)}\r\n\r\n`;
  interface Conn {
    socket: net.Socket;
    done: ((status: number) => void) | undefined;
    buf: Buffer | undefined;
  }
  const idle: Conn[] = [];
  const waiting: { bytes: Buffer; done: (status: number) => void }[] = [];
  let waitingHead = 0;
  let closing = false;
  const all = new Set<Conn>();

  const next = (conn: Conn) => {
    if (waitingHead < waiting.length) {
      const w = waiting[waitingHead]!;
      waiting[waitingHead++] = undefined as never;
      if (waitingHead > 4096 && waitingHead * 2 > waiting.length) {
        waiting.splice(0, waitingHead);
        waitingHead = 0;
      }
      conn.done = w.done;
      conn.socket.write(w.bytes);
    } else {
      idle.push(conn);
    }
  };
  const open = (): Conn => {
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    const conn: Conn = { socket, done: undefined, buf: undefined };
    all.add(conn);
    socket.on('data', (chunk: Buffer) => {
      let buf = conn.buf === undefined ? chunk : Buffer.concat([conn.buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const headers = buf.toString('latin1', 0, end);
        const status = Number(headers.slice(9, 12));
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
        if (cl === null) throw new Error(`response without content-length: ${headers}`);
        const total = end + 4 + Number(cl[1]);
        if (buf.length < total) break;
        buf = buf.subarray(total);
        const done = conn.done;
        conn.done = undefined;
        done?.(status);
        next(conn);
      }
      conn.buf = buf.length === 0 ? undefined : buf;
    });
    const lost = () => {
      all.delete(conn);
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      const done = conn.done;
      conn.done = undefined;
      done?.(0);
      if (!closing) next(open());
    };
    socket.on('error', () => undefined);
    socket.on('close', lost);
    return conn;
  };
  for (let i = 0; i < connections; i += 1) idle.push(open());
  return {
    name: `raw keep-alive sockets (${connections} connections, no pipelining, precomputed request bytes)`,
    prepare: (req) => ({ ...req, bytes: Buffer.from(head(req) + req.body) }),
    send(req, done) {
      const bytes = req.bytes!;
      const conn = idle.pop();
      if (conn === undefined) {
        waiting.push({ bytes, done });
        return;
      }
      conn.done = done;
      conn.socket.write(bytes);
    },
    async close() {
      closing = true;
      await Promise.all([...all].map((c) => new Promise<void>((r) => c.socket.end(() => r()))));
    },
  };
}

interface CpuSnapshot {
  bench: number;
  receiver: number;
  normaliser: number;
  machine: number;
}

const cpuSnapshot = (): CpuSnapshot => {
  const own = process.cpuUsage();
  return {
    bench: (own.user + own.system) / 1e6,
    receiver: cpuMsOf(children[0]?.pid) / 1000,
    normaliser: cpuMsOf(children[1]?.pid) / 1000,
    machine: machineCpuMs().busy / 1000,
  };
};

/** CPU used during a phase, in cores (CPU seconds per second): where the two cores went. */
function cpuCores(before: CpuSnapshot, after: CpuSnapshot, seconds: number) {
  const d = (k: keyof CpuSnapshot) => (after[k] - before[k]) / seconds;
  const ours = d('bench') + d('receiver') + (Number.isNaN(d('normaliser')) ? 0 : d('normaliser'));
  return {
    loadGenerator: round(d('bench')),
    receiver: round(d('receiver')),
    normaliser: Number.isNaN(d('normaliser')) ? null : round(d('normaliser')),
    brokerRedisAndRest: round(d('machine') - ours),
    machineBusy: round(d('machine')),
  };
}

async function runPhase(client: LoadClient, rate: number, durationS: number, deliveryIds: Set<string> | undefined): Promise<PhaseResult> {
  const total = rate * durationS;
  const latencies = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  let items = 0;
  // Bodies are built and signed before the clock starts, so the load process spends its CPU on
  // sending, not on JSON and HMACs (it shares two cores with the service and the broker).
  const prepared = Array.from({ length: total }, (): Prepared => {
    const body = payload();
    items += (body.match(/"status":/g) ?? []).length || 1;
    bytes += body.length;
    if (deliveryIds !== undefined) deliveryIds.add(createHash('sha256').update(body).digest('hex'));
    return client.prepare({ body, signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` });
  });
  const intervalMs = 1000 / rate;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const cpuBefore = cpuSnapshot();
  const start = performance.now();
  let issued = 0;
  let finishedAt = start;

  await new Promise<void>((resolve) => {
    const fire = (i: number) => {
      const req = prepared[i]!;
      prepared[i] = undefined as never;
      const scheduled = start + i * intervalMs;
      client.send(req, (status) => {
        latencies[i] = performance.now() - scheduled;
        if (status >= 200 && status < 300) ok += 1;
        else if (status === 0) errors += 1;
        else non2xx += 1;
        done += 1;
        if (done === total) {
          finishedAt = performance.now();
          resolve();
        }
      });
    };
    // Open loop: on every tick, issue everything whose scheduled time has come, whatever is in flight.
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (issued < due) fire(issued++);
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });

  loopDelay.disable();
  const cpu = cpuCores(cpuBefore, cpuSnapshot(), (finishedAt - start) / 1000);
  const sorted = latencies.slice().sort();
  const p99MsPerSecond: number[] = [];
  for (let second = 0; second * rate < total; second += 1) {
    p99MsPerSecond.push(round(percentile(latencies.slice(second * rate, (second + 1) * rate).sort(), 99), 1));
  }
  let over1s = 0;
  for (const l of sorted) if (l > 1000) over1s += 1;
  const elapsedS = (finishedAt - start) / 1000;
  return {
    rate,
    durationS,
    sent: total,
    ok,
    non2xx,
    errors,
    throughputRps: Math.round(ok / elapsedS),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    over1sPct: round((100 * over1s) / total, 3),
    meanBodyBytes: Math.round(bytes / total),
    statusesPerPayload: round(items / total, 2),
    p99MsPerSecond,
    clientLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6),
    clientLoopDelayMaxMs: round(loopDelay.max / 1e6),
    cpuCores: cpu,
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

// ───────────────────────── service process ─────────────────────────

type Role = 'receiver' | 'normaliser';

const NORMALISER_GROUP = uniqueName('bench-wh-normaliser');
const normaliserPort = () => config.BENCH_PORT + 1;

function startService(role: Role): ChildProcess {
  const receiver = role === 'receiver';
  const child = spawn(
    process.execPath,
    [...config.BENCH_SERVICE_NODE_ARGS.split(' ').filter(Boolean), '--import', 'tsx', path.join(ROOT, 'services/webhook/src/main.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
        REDIS_URL: config.REDIS_URL,
        TOPIC_PREFIX: PREFIX,
        REDIS_KEY_PREFIX: `${PREFIX}`,
        HTTP_PORT: String(receiver ? config.BENCH_PORT : normaliserPort()),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        WEBHOOK_APP_SECRETS: `bench=${SECRET}`,
        WEBHOOK_VERIFY_TOKEN: 'bench',
        WEBHOOK_RECEIVER_ENABLED: receiver ? 'true' : 'false',
        NORMALISER_ENABLED: !receiver || config.BENCH_NORMALISER === 'inline' ? 'true' : 'false',
        NORMALISER_GROUP_ID: NORMALISER_GROUP,
        NORMALISER_DEDUPE_TTL_S: '3600',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return child;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service at ${url} not ready within ${timeoutMs} ms`);
}

async function scrape(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const pick = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    produceSends: pick(/^wa_webhook_produce_batch_records_count\{[^}]*\} (\d+)/m),
    producedRecords: pick(/^wa_webhook_produce_batch_records_sum\{[^}]*\} (\d+)/m),
    produceSecondsSum: pick(/^wa_webhook_produce_duration_seconds_sum\{[^}]*outcome="ok"[^}]*\} ([\d.e+-]+)/m),
    produceSecondsCount: pick(/^wa_webhook_produce_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} (\d+)/m),
    eventLoopLagP99S: pick(/^\w*eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m),
    eventLoopLagMaxS: pick(/^\w*eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m),
    rssBytes: pick(/^\w*resident_memory_bytes(?:\{[^}]*\})? (\d+)/m),
    ...Object.fromEntries(
      [...text.matchAll(/^wa_webhook_ack_duration_seconds_bucket\{([^}]*)\} (\d+)/gm)]
        .filter((m) => m[1]!.includes('code="200"'))
        .map((m) => [`ack_le_${/le="([^"]+)"/.exec(m[1]!)?.[1]}`, Number(m[2])]),
    ),
  };
}

/** Server-side ack quantile from histogram bucket deltas (upper bucket bound, so a ceiling). */
function serverQuantile(before: Record<string, number>, after: Record<string, number>, q: number): number | null {
  const buckets = Object.keys(after)
    .filter((k) => k.startsWith('ack_le_'))
    .map((k) => ({ le: k.slice(7) === '+Inf' ? Infinity : Number(k.slice(7)), n: after[k]! - (before[k] ?? 0) }))
    .sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.n ?? 0;
  if (total === 0) return null;
  const hit = buckets.find((b) => b.n >= q * total);
  return hit === undefined || hit.le === Infinity ? null : hit.le * 1000;
}

// ───────────────────────── main ─────────────────────────

const logger = createLogger({ service: 'bench-webhook', level: 'warn' });
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'bench-webhook', logger });
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, [topics.webhooksRaw, topics.eventsStatus, topics.eventsInbound, topics.eventsAccount, topics.notificationsDlq], {
  partitions: config.BENCH_PARTITIONS,
  retentionMs: 3_600_000,
  prefix: PREFIX,
});

/** Records of the raw topic the normaliser group has not committed yet. */
async function normaliserLag(): Promise<number> {
  const ends = await admin.fetchTopicOffsets(RAW_TOPIC);
  const [committed] = await admin.fetchOffsets({ groupId: consumerGroupId(NORMALISER_GROUP, { TOPIC_PREFIX: PREFIX }), topics: [RAW_TOPIC] });
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((sum, e) => sum + Number(e.high) - Math.max(0, at.get(e.partition) ?? 0), 0);
}

const url = `http://127.0.0.1:${config.BENCH_PORT}`;
const normaliserUrl = `http://127.0.0.1:${normaliserPort()}`;
const children: ChildProcess[] = [startService('receiver')];
if (config.BENCH_NORMALISER === 'process') children.push(startService('normaliser'));
let exitCode = 0;
try {
  await waitReady(url, 60_000);
  if (config.BENCH_NORMALISER === 'process') await waitReady(normaliserUrl, 60_000);
  const pool = config.BENCH_CLIENT === 'raw' ? rawClient(url, config.BENCH_CONNECTIONS) : undiciClient(url, config.BENCH_CONNECTIONS);

  // Warm-up (JIT, producer metadata, and the client pool's connections: a jump from a low rate
  // to the sustained one opened ~100 new connections in the first measured second, which showed
  // as a 0.3–0.9 s p99 there and nowhere else); not counted in any phase.
  await runPhase(pool, 500, 3, undefined);
  await runPhase(pool, config.BENCH_RATE, config.BENCH_WARMUP_S, undefined);
  const warmMetrics = await scrape(url);

  const sentIds = new Set<string>();
  console.log(`sustained: ${config.BENCH_RATE} req/s for ${config.BENCH_DURATION_S} s …`);
  const sustained = await runPhase(pool, config.BENCH_RATE, config.BENCH_DURATION_S, sentIds);
  const afterMetrics = await scrape(url);
  const lagAfterSustained = config.BENCH_NORMALISER === 'off' ? null : await normaliserLag();

  console.log('step-up …');
  const steps: PhaseResult[] = [];
  const sustainedOk = (r: PhaseResult) => r.p99Ms <= 100 && r.non2xx + r.errors === 0 && r.throughputRps >= r.rate * 0.95;
  // The machine is shared: a rate that misses is tried once more before the step-up stops, so one
  // stall caused by another process does not end the search.
  for (const rate of config.BENCH_STEP_RATES.map(Number)) {
    let passed = false;
    for (let attempt = 1; attempt <= 2 && !passed; attempt += 1) {
      const r = await runPhase(pool, rate, config.BENCH_STEP_S, undefined);
      steps.push(r);
      passed = sustainedOk(r);
      console.log(
        `  ${rate} req/s (attempt ${attempt}): p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.throughputRps} ok/s, non-2xx ${r.non2xx + r.errors}; CPU ${JSON.stringify(r.cpuCores)}`,
      );
    }
    if (!passed) break;
  }
  await pool.close();
  // The normaliser's work counts too: how long after the last request it has everything committed.
  let normaliserCaughtUpS: number | null = null;
  if (config.BENCH_NORMALISER !== 'off') {
    const loadEnded = Date.now();
    while (Date.now() - loadEnded < 180_000 && (await normaliserLag()) > 0) await new Promise((r) => setTimeout(r, 250));
    if ((await normaliserLag()) === 0) normaliserCaughtUpS = round((Date.now() - loadEnded) / 1000, 1);
  }
  const normaliserMetrics = config.BENCH_NORMALISER === 'process' ? await scrape(normaliserUrl) : undefined;
  const best = steps.filter(sustainedOk).reduce<PhaseResult | undefined>((a, b) => (a === undefined || b.rate > a.rate ? b : a), undefined);

  // Every payload of the sustained phase must be on wa.webhooks.raw exactly once.
  const counts = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: uniqueName('bench-wh-count'), maxBytes: 32 * 1_048_576 });
  await consumer.connect();
  await consumer.subscribe({ topic: RAW_TOPIC, fromBeginning: true });
  let seenSustained = 0;
  const countStart = Date.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (m.value === null) continue;
        const id = (JSON.parse(m.value.toString('utf8')) as { deliveryId: string }).deliveryId;
        if (!sentIds.has(id)) continue;
        const n = (counts.get(id) ?? 0) + 1;
        counts.set(id, n);
        if (n === 1) seenSustained += 1;
      }
    },
  });
  while (seenSustained < sentIds.size && Date.now() - countStart < 120_000) await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  const missing = sentIds.size - seenSustained;

  const sends = afterMetrics.produceSends! - warmMetrics.produceSends!;
  const records = afterMetrics.producedRecords! - warmMetrics.producedRecords!;
  const produceMeanMs =
    ((afterMetrics.produceSecondsSum! - warmMetrics.produceSecondsSum!) / (afterMetrics.produceSecondsCount! - warmMetrics.produceSecondsCount!)) * 1000;
  const report = {
    benchmark: 'webhook',
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    setup: {
      service: {
        process: 'services/webhook/src/main.ts as a receiver child process (load from this process)',
        inline: 'services/webhook/src/main.ts as one child process running receiver and normaliser (load from this process)',
        off: 'services/webhook/src/main.ts as a receiver child process, no normaliser (load from this process)',
      }[config.BENCH_NORMALISER],
      normaliser:
        config.BENCH_NORMALISER === 'process'
          ? 'a second services/webhook/src/main.ts process (WEBHOOK_RECEIVER_ENABLED=false) consuming the raw topic during the run'
          : config.BENCH_NORMALISER,
      broker: config.KAFKA_BROKERS.join(','),
      partitions: config.BENCH_PARTITIONS,
      connections: config.BENCH_CONNECTIONS,
      client: pool.name,
      warmup: `3 s at 500/s, then ${config.BENCH_WARMUP_S} s at ${config.BENCH_RATE}/s (not counted)`,
      acks: -1,
      payloadMix: '75% single status, 20% batched 2–10 statuses, 5% inbound text; PMP pricing; ~3% failed',
    },
    sustained: {
      ...sustained,
      uniquePayloads: sentIds.size,
      onRawTopicOnce: seenSustained - duplicates,
      duplicatesOnRaw: duplicates,
      missingOnRaw: missing,
      produceSends: sends,
      meanRecordsPerSend: round(records / sends, 1),
      meanProduceMs: round(produceMeanMs),
      serviceRssMiB: round(afterMetrics.rssBytes! / 2 ** 20, 1),
      serverAckP50MsAtMost: serverQuantile(warmMetrics, afterMetrics, 0.5),
      serverAckP99MsAtMost: serverQuantile(warmMetrics, afterMetrics, 0.99),
      loadAverage1m: round(os.loadavg()[0] ?? NaN),
      serviceEventLoopLagP99Ms: round(afterMetrics.eventLoopLagP99S! * 1000),
      serviceEventLoopLagMaxMs: round(afterMetrics.eventLoopLagMaxS! * 1000),
    },
    normaliser: {
      mode: config.BENCH_NORMALISER,
      lagAfterSustained,
      caughtUpSecondsAfterLoad: normaliserCaughtUpS,
      ...(normaliserMetrics
        ? { eventLoopLagP99Ms: round(normaliserMetrics.eventLoopLagP99S! * 1000), rssMiB: round(normaliserMetrics.rssBytes! / 2 ** 20, 1) }
        : {}),
    },
    stepUp: steps,
    highestRateWithP99Under100ms: best?.rate ?? null,
    targets: { p99MsAt2000: 25, p99MsForMaxRate: 100 },
  };
  mkdirSync(path.join(ROOT, 'bench/reports'), { recursive: true });
  writeFileSync(path.join(ROOT, `bench/reports/${config.BENCH_REPORT}.json`), `${JSON.stringify(report, null, 2)}\n`);

  const s = report.sustained;
  console.log('\nwebhook benchmark');
  console.table({
    [`sustained ${s.rate}/s × ${s.durationS}s`]: {
      'ok/s': s.throughputRps,
      'p50 ms': s.p50Ms,
      'p99 ms': s.p99Ms,
      'p99.9 ms': s.p999Ms,
      'max ms': s.maxMs,
      'non-2xx': s.non2xx + s.errors,
      '>1s %': s.over1sPct,
    },
    ...Object.fromEntries(
      steps.map((r, i) => [
        `step ${i + 1}: ${r.rate}/s × ${r.durationS}s`,
        {
          'ok/s': r.throughputRps,
          'p50 ms': r.p50Ms,
          'p99 ms': r.p99Ms,
          'p99.9 ms': r.p999Ms,
          'max ms': r.maxMs,
          'non-2xx': r.non2xx + r.errors,
          '>1s %': r.over1sPct,
        },
      ]),
    ),
  });
  console.log(
    `raw topic: ${s.uniquePayloads} payloads sent, ${s.onRawTopicOnce} present exactly once, ${s.duplicatesOnRaw} duplicated, ${s.missingOnRaw} missing`,
  );
  console.log(
    `server-side ack (histogram bucket bound): p50 ≤ ${s.serverAckP50MsAtMost} ms, p99 ≤ ${s.serverAckP99MsAtMost} ms; 1-min load average ${s.loadAverage1m} on ${report.machine.cpus} CPUs`,
  );
  console.log(`service event-loop lag since start: p99 ${s.serviceEventLoopLagP99Ms} ms, max ${s.serviceEventLoopLagMaxMs} ms`);
  console.log(`load process event-loop delay during the sustained phase: p99 ${s.clientLoopDelayP99Ms} ms, max ${s.clientLoopDelayMaxMs} ms`);
  console.log(`CPU during the sustained phase (cores of ${report.machine.cpus}): ${JSON.stringify(s.cpuCores)}`);
  console.log(`sustained p99 per second (ms): ${s.p99MsPerSecond.join(' ')}`);
  console.log(
    `group commit: ${s.produceSends} sends, ${s.meanRecordsPerSend} records/send, mean produce ${s.meanProduceMs} ms; service RSS ${s.serviceRssMiB} MiB`,
  );
  const n = report.normaliser;
  if (n.mode !== 'off')
    console.log(
      `normaliser (${n.mode}): ${n.lagAfterSustained} raw records behind at the end of the sustained phase; everything committed ${n.caughtUpSecondsAfterLoad ?? 'NOT within 180'} s after the load ended${'eventLoopLagP99Ms' in n ? `; its event-loop lag p99 ${n.eventLoopLagP99Ms} ms, RSS ${n.rssMiB} MiB` : ''}`,
    );
  console.log(`highest rate with p99 ≤ 100 ms: ${report.highestRateWithP99Under100ms ?? 'none of the steps'} req/s`);
  console.log(`report: bench/reports/${config.BENCH_REPORT}.json`);
  if (missing > 0 || duplicates > 0 || s.non2xx + s.errors > 0 || (n.mode !== 'off' && n.caughtUpSecondsAfterLoad === null)) exitCode = 1;
} finally {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null) return undefined;
      child.kill('SIGTERM');
      return new Promise((r) => child.once('exit', r));
    }),
  );
  await admin
    .deleteTopics({
      topics: [topics.webhooksRaw, topics.eventsStatus, topics.eventsInbound, topics.eventsAccount, topics.notificationsDlq].map((t) => topicName(t, PREFIX)),
    })
    .catch(() => undefined);
  await admin.disconnect();
  const redis = createRedis(config.REDIS_URL);
  await redis.connect().catch(() => undefined);
  await deleteKeysWithPrefix(redis, PREFIX);
  await redis.quit();
}
process.exit(exitCode);
