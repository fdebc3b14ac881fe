import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '@wa/shared/clock';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { RedisLedger } from '../../src/adapters/redis-ledger';
import { RedisSendGuard } from '../../src/adapters/redis-send-guard';

const DAY_MS = 24 * 3_600_000;
const TTL_MS = 3 * DAY_MS;

let redis: Redis;
let prefix: string;
beforeAll(async () => {
  prefix = `${uniqueName('ledger')}:`;
  redis = createRedis(testInfra().redisUrl);
  await redis.connect();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

const event = (jobId: string, attempt = 0): SentEventV1 => ({
  v: 1,
  eventId: `${jobId}:${attempt}`,
  jobId,
  requestKey: 'order-1',
  senderPhoneNumberId: '106540352242922',
  recipientHash: 'Zk2x9Q0mYtq3vS1bJc8rUw',
  recipientCountry: 'DE',
  category: 'utility',
  lane: 'utility',
  attempt,
  outcome: 'sent',
  wamid: 'wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI0A',
  requestedAt: '2026-03-01T09:00:00.000Z',
  occurredAt: '2026-03-01T09:00:01.250Z',
});

/** A ledger on a settable clock (the bucket windows follow it; Redis TTLs run on real time). */
function ledgerAt(p: string, start = Date.UTC(2026, 2, 1, 9)) {
  const clock = createManualClock(start);
  const ledger = new RedisLedger(redis, { keyPrefix: p, ttlMs: TTL_MS, bucketBits: 2, clock });
  /** The job's recent key expiring (after `recentMs`), without waiting for it. */
  const expireRecent = (jobId: string) => redis.del(`${p}wa:dispatch:ledger:${jobId}`);
  return { ledger, clock, expireRecent };
}

async function keysOf(p: string): Promise<string[]> {
  return (await redis.keys(`${p}*`)).sort();
}

describe('send ledger on Redis (recent keys and per-day buckets)', () => {
  it('a done job stays known for the TTL after its recent key is gone: never claimed again, its event re-announced only while kept', async () => {
    const p = `${prefix}done:`;
    const { ledger, clock, expireRecent } = ledgerAt(p);
    expect(await ledger.claim('j1', 0)).toEqual({ claimed: true });
    expect(await ledger.claim('j1', 0)).toMatchObject({ claimed: false, existing: { st: 'claimed', a: 0, owner: ledger.owner } });
    await ledger.recordDone('j1', 0, JSON.stringify(event('j1')));
    expect(await ledger.peek('j1')).toEqual({ st: 'done', a: 0, at: clock.now(), event: event('j1') });
    expect(await ledger.claim('j1', 1)).toMatchObject({ claimed: false, existing: { st: 'done', event: event('j1') } });

    await expireRecent('j1');
    clock.advance(2 * DAY_MS + 3_600_000); // two windows later: every window back to the write is read
    expect(await ledger.peek('j1')).toEqual({ st: 'done', a: 0 });
    expect(await ledger.claim('j1', 0)).toEqual({ claimed: false, existing: { st: 'done', a: 0 } });
    expect(await ledger.claimDone('j1', 1, JSON.stringify(event('j1', 1)))).toEqual({ claimed: false, existing: { st: 'done', a: 0 } });
    clock.advance(2 * DAY_MS); // past the horizon and its window (the bucket's own TTL would have ended it by now)
    expect(await ledger.peek('j1')).toBeUndefined();
  });

  it('a retry lets the next attempt claim; a later write moves the entry to the newest window; every key has a TTL', async () => {
    const p = `${prefix}retry:`;
    const { ledger, clock, expireRecent } = ledgerAt(p);
    expect((await ledger.claim('j2', 0)).claimed).toBe(true);
    await ledger.recordRetry('j2', 0);
    expect(await ledger.claim('j2', 0)).toMatchObject({ claimed: false, existing: { st: 'retry', a: 0 } });
    await expireRecent('j2');
    expect(await ledger.peek('j2')).toEqual({ st: 'retry', a: 0 });
    clock.advance(DAY_MS);
    expect(await ledger.claim('j2', 1)).toEqual({ claimed: true });
    await ledger.recordDone('j2', 1, JSON.stringify(event('j2', 1)));
    const buckets = (await keysOf(p)).filter((k) => k.includes(':ledger-b:'));
    const fields = await Promise.all(buckets.map((k) => redis.hvals(k)));
    expect(fields.flat()).toEqual(['d1']);
    for (const key of await keysOf(p)) expect(await redis.pttl(key), key).toBeGreaterThan(0);
    const bucketTtl = await redis.pttl(buckets[0]!);
    expect(bucketTtl).toBeGreaterThanOrEqual(TTL_MS);
    expect(bucketTtl).toBeLessThanOrEqual(TTL_MS + DAY_MS + 300_000);
  });

  it('announced: the done event is kept recentMs, not the TTL; a claim held by the guard keeps the TTL', async () => {
    const p = `${prefix}announced:`;
    const { ledger } = ledgerAt(p, Date.now());
    await ledger.claimDone('j3', 0, JSON.stringify(event('j3')));
    expect(await redis.pttl(`${p}wa:dispatch:ledger:j3`)).toBeGreaterThan(ledger.recentMs);
    ledger.announced('j3');
    await new Promise((r) => setImmediate(r));
    await redis.ping();
    const ttl = await redis.pttl(`${p}wa:dispatch:ledger:j3`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ledger.recentMs);

    const guard = new RedisSendGuard(redis, { keyPrefix: p });
    const send = (jobId: string) => ({ member: jobId, windowMs: 1_000, cap: 10, gapMs: 0, claim: ledger.claimRequest(jobId, 0) });
    expect(await guard.admit('N', send('j4'))).toMatchObject({ kind: 'admitted' });
    expect(await redis.pttl(`${p}wa:dispatch:ledger:j4`)).toBeGreaterThan(TTL_MS - 60_000);
    expect(await ledger.peek('j4')).toMatchObject({ st: 'claimed', a: 0, owner: ledger.owner });
    expect(await guard.admit('N', send('j3'))).toMatchObject({ kind: 'known', existing: { st: 'done', a: 0, event: event('j3') } });
  });

  it('reads entries written before the buckets (one key per job, short field names) until they expire', async () => {
    const p = `${prefix}legacy:`;
    const { ledger } = ledgerAt(p);
    const stored = JSON.stringify({
      st: 'done',
      a: 0,
      at: 1,
      e: { k: 'order-1', s: '106540352242922', r: 'h', n: 'DE', g: 'utility', l: 'utility', o: 'sent' },
    });
    await redis.set(`${p}wa:dispatch:ledger:old`, stored, 'PX', 60_000);
    expect(await ledger.peek('old')).toMatchObject({ st: 'done', a: 0, event: { jobId: 'old', eventId: 'old:0', outcome: 'sent', requestKey: 'order-1' } });
    expect(await ledger.claim('old', 1)).toMatchObject({ claimed: false, existing: { st: 'done' } });
    await redis.set(`${p}wa:dispatch:ledger:old-retry`, '{"st":"retry","a":0,"at":1}', 'PX', 60_000);
    expect(await ledger.claim('old-retry', 0)).toMatchObject({ claimed: false, existing: { st: 'retry', a: 0 } });
    expect(await ledger.claim('old-retry', 1)).toEqual({ claimed: true });
  });
});
