/**
 * Redis memory per message of the exactly-once bookkeeping, through the real adapters against real
 * Redis: ingest's idempotency claim, the dispatcher's send ledger (claim, then 'done' with the sent
 * event, then announced) and the webhook normaliser's dedupe markers for three statuses (sent,
 * delivered, read).
 * Bytes come from `MEMORY USAGE <key> SAMPLES 0` of every key under a unique prefix (the shared Redis
 * makes INFO memory deltas noisy). KB·day per message = Σ bytes × days kept: a plain key is kept for
 * its TTL, a hash bucket's field for its mean lifetime (see shared/src/redis-buckets.ts).
 *
 *   BENCH_MESSAGES=5000 npm run bench:redis-memory
 *
 * Bucket bits are scaled to the run so a bucket holds as many fields as the defaults give at their
 * design volume (~64), which is the steady state the sizing rule in docs/deploy.md assumes.
 */
import { createHash } from 'node:crypto';
import { RedisBuckets } from '@wa/shared/redis-buckets';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { RedisLedger } from '../services/dispatcher/src/adapters/redis-ledger';
import { createRedisIdempotencyStore } from '../services/ingest/src/adapters/redis-idempotency';
import { RedisState } from '../services/webhook/src/adapters/redis-state';
import { printTable, writeReport } from './lib/report';

const DAY_MS = 24 * 3_600_000;
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5_000);
const BATCH = 100;
const IDEMPOTENCY_TTL_S = 7 * 24 * 3_600;
const DEDUPE_TTL_S = 7 * 24 * 3_600;
const LEDGER_TTL_MS = 3 * DAY_MS;
const STATUSES = ['sent', 'delivered', 'read'] as const;

/** Bits giving ~64 fields per bucket for `count` ids in one window. */
const bitsFor = (count: number) => Math.max(0, Math.round(Math.log2(count / 64)));

const prefix = `${uniqueName('bench-redis-mem')}:`;
const redis = createRedis(testInfra().redisUrl);
const runStart = Date.now();
const clock = { now: () => Date.now() };

const idemBits = bitsFor(MESSAGES);
const seenBits = bitsFor(MESSAGES * STATUSES.length);
const idempotency = createRedisIdempotencyStore(redis, { keyPrefix: prefix, ttlSeconds: IDEMPOTENCY_TTL_S, bucketBits: idemBits });
const ledgerBits = bitsFor(MESSAGES);
const ledger = new RedisLedger(redis, { keyPrefix: prefix, ttlMs: LEDGER_TTL_MS, bucketBits: ledgerBits });
const state = new RedisState(redis, createRedisKeys(prefix), { dedupeTtlS: DEDUPE_TTL_S, dedupeBucketBits: seenBits, clock });

/** Same shape as ingest's job ids (domain/job-id.ts). */
const jobIdOf = (i: number) => `j_${createHash('sha256').update(`${prefix}${i}`).digest('base64url').slice(0, 32)}`;
const wamidOf = (i: number) => `wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI${i.toString(16).toUpperCase().padStart(20, '0')}A`;

function sentEvent(i: number): SentEventV1 {
  const jobId = jobIdOf(i);
  return {
    v: 1,
    eventId: `${jobId}:0`,
    jobId,
    requestKey: `order-update-${i}`,
    campaignId: 'spring-sale-2026',
    senderPhoneNumberId: '106540352242922',
    wabaId: '102290129340398',
    recipientHash: 'Zk2x9Q0mYtq3vS1bJc8rUw',
    recipientCountry: 'DE',
    template: 'order_update:en_US',
    category: 'utility',
    lane: 'utility',
    attempt: 0,
    outcome: 'sent',
    httpStatus: 200,
    wamid: wamidOf(i),
    latencyMs: 41,
    requestedAt: '2026-03-01T09:00:00.000Z',
    occurredAt: '2026-03-01T09:00:01.250Z',
  };
}

async function run(): Promise<void> {
  await ledger.start();
  for (let start = 0; start < MESSAGES; start += BATCH) {
    const range = Array.from({ length: Math.min(BATCH, MESSAGES - start) }, (_, k) => start + k);
    // ingest: one single-recipient request per message
    const claims = await idempotency.claim(range.map((i) => ({ key: `bench-order-${i}`, owner: `k:wa.requests:0:${i}` })));
    if (claims.some((c) => c !== 'new')) throw new Error('idempotency: a fresh key was not new');
    // dispatcher: claim, send, record done with the event, announce it
    await Promise.all(
      range.map(async (i) => {
        const claim = await ledger.claim(jobIdOf(i), 0);
        if (!claim.claimed) throw new Error('ledger: a fresh job was not claimed');
        const event = sentEvent(i);
        await ledger.recordDone(event.jobId, 0, JSON.stringify(event));
        ledger.announced(event.jobId);
      }),
    );
    // webhook: three statuses per message, looked up then marked
    const ids = range.flatMap((i) => STATUSES.map((s, k) => `${wamidOf(i)}:${s}:${1_772_355_600 + k}`));
    if ((await state.seen(ids)).size !== 0) throw new Error('dedupe: a fresh event was seen');
    await state.markSeen(ids);
  }
  // The guarantees still hold after the run: every key is a duplicate, every job is known and done.
  const again = await idempotency.claim([
    { key: 'bench-order-0', owner: 'other' },
    { key: `bench-order-${MESSAGES - 1}`, owner: `k:wa.requests:0:${MESSAGES - 1}` },
  ]);
  if (again[0] !== 'duplicate' || again[1] !== 'owned') throw new Error(`idempotency after the run: ${again.join(',')}`);
  const done = await ledger.peek(jobIdOf(MESSAGES - 1));
  if (done?.st !== 'done' || done.event?.wamid !== wamidOf(MESSAGES - 1)) throw new Error('ledger after the run: the done event is not as recorded');
  // Once its recent key has expired, the job is still known as done (the bucket entry) and cannot be claimed.
  await redis.del(`${prefix}wa:dispatch:ledger:${jobIdOf(0)}`);
  const again0 = await ledger.claim(jobIdOf(0), 0);
  if (again0.claimed || again0.existing.st !== 'done') throw new Error('ledger after the run: a done job could be claimed again');
  const lastIds = STATUSES.map((s, k) => `${wamidOf(MESSAGES - 1)}:${s}:${1_772_355_600 + k}`);
  if ((await state.seen(lastIds)).size !== lastIds.length) throw new Error('dedupe after the run: a marked event was not seen');
  await ledger.stop();
}

interface Category {
  name: string;
  match: (key: string) => boolean;
  bucketModel: RedisBuckets;
  keys: number;
  bytes: number;
  byteDays: number;
}

async function measure(): Promise<Category[]> {
  const categories: Category[] = [
    {
      name: 'idempotency (ingest)',
      match: (k) => k.startsWith(`${prefix}ingest:idem`),
      bucketModel: new RedisBuckets({ prefix: '', horizonMs: IDEMPOTENCY_TTL_S * 1000, bucketBits: idemBits }),
      keys: 0,
      bytes: 0,
      byteDays: 0,
    },
    {
      name: 'send ledger, buckets (dispatcher)',
      match: (k) => k.startsWith(`${prefix}wa:dispatch:ledger-b:`),
      bucketModel: ledger.buckets,
      keys: 0,
      bytes: 0,
      byteDays: 0,
    },
    {
      name: 'send ledger, recent keys (dispatcher)',
      match: (k) => k.startsWith(`${prefix}wa:dispatch:ledger:`),
      bucketModel: ledger.buckets,
      keys: 0,
      bytes: 0,
      byteDays: 0,
    },
    {
      name: 'webhook dedupe (webhook)',
      match: (k) => k.startsWith(`${prefix}wa:webhook-seen:`),
      bucketModel: new RedisBuckets({ prefix: '', horizonMs: DEDUPE_TTL_S * 1000, bucketBits: seenBits }),
      keys: 0,
      bytes: 0,
      byteDays: 0,
    },
  ];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const category = categories.find((c) => c.match(key));
      if (!category) continue;
      const [bytes, pttl, type] = await Promise.all([redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number>, redis.pttl(key), redis.type(key)]);
      if (pttl < 0) throw new Error(`${key} has no TTL`);
      const lifetimeMs = type === 'hash' ? category.bucketModel.meanLifetimeMs : pttl + (Date.now() - runStart) / 2;
      category.keys += 1;
      category.bytes += bytes;
      category.byteDays += (bytes * lifetimeMs) / DAY_MS;
    }
  } while (cursor !== '0');
  return categories;
}

try {
  await run();
  const categories = await measure();
  const totalBytes = categories.reduce((s, c) => s + c.bytes, 0);
  const kbDay = categories.reduce((s, c) => s + c.byteDays, 0) / MESSAGES / 1024;
  const gbPer10M = (kbDay * 1024 * 10_000_000) / 1024 ** 3;
  printTable(`Redis memory per message (${MESSAGES} messages, ${categories.reduce((s, c) => s + c.keys, 0)} keys)`, [
    ...categories.flatMap((c) => [
      { metric: `${c.name}: bytes/message`, value: c.bytes / MESSAGES },
      { metric: `${c.name}: KB·day/message`, value: c.byteDays / MESSAGES / 1024 },
    ]),
    { metric: 'total bytes/message', value: totalBytes / MESSAGES },
    { metric: 'total KB·day/message', value: kbDay, target: '<= 1.0', ok: kbDay <= 1.0 },
    { metric: 'steady-state GB per 10M msgs/day', value: gbPer10M },
  ]);
  writeReport('redis-memory', {
    messages: MESSAGES,
    bucketBits: { idempotency: idemBits, sendLedger: ledgerBits, webhookDedupe: seenBits },
    categories: categories.map((c) => ({ name: c.name, keys: c.keys, bytesPerMessage: c.bytes / MESSAGES, kbDayPerMessage: c.byteDays / MESSAGES / 1024 })),
    totalBytesPerMessage: totalBytes / MESSAGES,
    kbDayPerMessage: kbDay,
    gbPer10MMessagesPerDay: gbPer10M,
  });
} finally {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
}
