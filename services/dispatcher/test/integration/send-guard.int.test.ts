import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import type { Logger } from 'pino';
import { inboundRateBucket } from '@wa/shared/inbound-rate';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { RedisInboundRates } from '../../src/adapters/redis-inbound-rates';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { CATCH_UP_MS, gcraLua, RedisSendGuard, sendGuardLua } from '../../src/adapters/redis-send-guard';
import type { LedgerClaim } from '../../src/ports';
import { GuardModel } from '../support/guard-model';

/** The scripts with the time taken from an argument instead of Redis' TIME, so a sequence can be replayed on the model. */
interface ScriptsAt extends Redis {
  gcraReserveAt(key: string, intervalMs: string, count: number, catchUpMs: number, now: string): Promise<string>;
  sendGuardAt(...args: (string | number)[]): Promise<string>;
}

/** A small seeded PRNG (mulberry32), so a failing sequence can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const LEDGER_VALUES = ['{"st":"claimed","a":0,"owner":"o","at":1}', '{"st":"retry","a":1,"at":1}', '{"st":"done","a":2,"at":1}'];

let redis: ScriptsAt;
let prefix: string;
beforeAll(async () => {
  prefix = `${uniqueName('guard')}:`;
  const r = createRedis(testInfra().redisUrl);
  await r.connect();
  r.defineCommand('gcraReserveAt', { numberOfKeys: 1, lua: gcraLua('local now = tonumber(ARGV[4])') });
  r.defineCommand('sendGuardAt', { lua: sendGuardLua('local now = tonumber(ARGV[8])') });
  redis = r as ScriptsAt;
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

describe('send guard on Redis', () => {
  it('the Lua scripts and the pure model give the same answers to the same random admission sequences', async () => {
    let ops = 0;
    const replies = { admitted: 0, held: 0, known: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      const model = new GuardModel();
      const k = (name: string) => `${prefix}${seed}:${name}`;
      let now = 1_800_000_000_000 + rnd.int(1_000_000) / 1_000;
      const admittedMembers: { key: string; member: string; at: number }[] = [];
      for (let i = 0; i < 250; i++, ops++) {
        now += rnd.int(30_000) / 1_000;
        const at = now.toFixed(3);
        const number = rnd.pick(['a', 'b']);
        const op = rnd.next();
        const where = `seed ${seed}, op ${i}`;
        if (op < 0.2) {
          const interval = rnd.pick([1.0204, 5, 12.5, 102.0408]).toFixed(4);
          const count = 1 + rnd.int(10);
          const [lua, pure] = [
            await redis.gcraReserveAt(k(`rate:${number}`), interval, count, CATCH_UP_MS, at),
            model.gcraReserve(k(`rate:${number}`), interval, count, CATCH_UP_MS, Number(at)),
          ];
          expect(lua, where).toBe(pure);
        } else if (op < 0.9) {
          const win = k(`sent-window:${number}`);
          const claim: LedgerClaim = { key: k(`ledger:${rnd.int(40)}`), value: rnd.pick(LEDGER_VALUES), attempt: rnd.int(4), ttlMs: 60_000 };
          const args = {
            windowMs: 1_000,
            cap: rnd.pick([1, 2, 5, 20]),
            member: `m${i}`,
            gapMs: rnd.pick(['0.000', '6.250', '10.000', '51.020']),
            value: claim.value,
            attempt: claim.attempt,
          };
          const lua = await redis.sendGuardAt(
            3,
            win,
            `${win}:last-admission`,
            claim.key,
            args.windowMs,
            args.cap,
            args.member,
            args.gapMs,
            claim.value,
            claim.attempt,
            claim.ttlMs,
            at,
          );
          const pure = model.sendGuard([win, `${win}:last-admission`, claim.key], args, Number(at));
          expect(lua, where).toBe(pure);
          replies[lua.startsWith('A') ? 'admitted' : lua.startsWith('E') ? 'known' : 'held']++;
          if (lua.startsWith('A')) admittedMembers.push({ key: win, member: args.member, at: Number(at) });
        } else if (admittedMembers.length > 0) {
          // A late write or a cold answer moves a send later in the window (ZADD XX GT), never earlier.
          const m = rnd.pick(admittedMembers);
          const to = (m.at + rnd.int(240_000) / 1_000 - 40).toFixed(3);
          await redis.zadd(m.key, 'XX', 'GT', to, m.member);
          model.move(m.key, m.member, Number(to));
        }
      }
      for (const number of ['a', 'b']) {
        const win = k(`sent-window:${number}`);
        const flat = await redis.zrange(win, 0, -1, 'WITHSCORES');
        const lua = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], Number(flat[2 * i + 1])]);
        expect(lua, `seed ${seed}: window ${number}`).toEqual(model.sorted(win));
        expect(await redis.get(`${win}:last-admission`)).toBe(model.get(`${win}:last-admission`) ?? null);
      }
    }
    console.log(`${ops} operations in 40 sequences, the scripts and the model agree: ${JSON.stringify(replies)}`);
    // Every branch of the guard was taken many times.
    expect(Math.min(replies.admitted, replies.held, replies.known)).toBeGreaterThan(200);
  }, 60_000);

  it("the adapter places slots on the local clock through Redis' clock, admits, holds, refuses known jobs, moves sends, and sets a TTL on every key", async () => {
    const p = `${prefix}adapter:`;
    const guard = new RedisSendGuard(redis, { keyPrefix: p });
    await guard.calibrate();
    // A new number's first slot is now (Redis and this process share a host clock here; a round trip apart).
    const first = await guard.reserve('N', 10, 5);
    expect(Math.abs(first - Date.now())).toBeLessThan(50);
    expect(await guard.reserve('N', 10, 1)).toBeCloseTo(first + 50, 1);

    const claim = (job: string): LedgerClaim => ({ key: `${p}ledger:${job}`, value: '{"st":"claimed","a":0,"owner":"o","at":1}', attempt: 0, ttlMs: 60_000 });
    const send = (member: string, job: string) => ({ member, windowMs: 1_000, cap: 1, gapMs: 10, claim: claim(job) });
    const before = Date.now();
    const admitted = await guard.admit('N', send('m1', 'j1'));
    // The admission's time on Redis, on the local clock: no later than the reply was read.
    expect(admitted.kind === 'admitted' && admitted.at! >= before - 5 && admitted.at! <= Date.now() + 1).toBe(true);
    const held = await guard.admit('N', send('m2', 'j2'));
    expect(held.kind === 'held' && held.waitMs > 900 && held.waitMs <= 1_000.05).toBe(true);
    expect(await guard.admit('N', { ...send('m3', 'j1'), cap: 5, gapMs: 0 })).toEqual({ kind: 'known', existing: { st: 'claimed', a: 0, owner: 'o', at: 1 } });

    const win = createRedisKeys(p).throughputWindow('N');
    const admittedAt = Number(await redis.zscore(win, 'm1'));
    // A send written 300 ms after its admission is placed on Redis' clock, 20 ms before Redis' present
    // (the caller's "20 ms ago"), never through an offset estimate; earlier than where it is, it stays.
    await new Promise((r) => setTimeout(r, 320));
    guard.move('N', 'm1', Date.now() - 20);
    guard.move('N', 'gone', Date.now()); // only existing sends move
    await redis.ping();
    const [sec, micro] = await redis.time();
    const movedBy = Number(await redis.zscore(win, 'm1')) - admittedAt;
    expect(movedBy).toBeGreaterThan(250);
    expect(Number(sec) * 1000 + Number(micro) / 1000 - (admittedAt + movedBy)).toBeGreaterThanOrEqual(20);
    guard.move('N', 'm1', admittedAt - 1_000);
    await redis.ping();
    expect(Number(await redis.zscore(win, 'm1')) - admittedAt).toBe(movedBy);
    expect(await redis.zscore(win, 'gone')).toBeNull();
    for (const key of [win, `${win}:last-admission`, `${p}wa:dispatch:rate:N`, `${p}ledger:j1`]) expect(await redis.pttl(key), key).toBeGreaterThan(0);
  });
  it("counts the inbound messages the webhook normaliser put in the number's window with the sends", async () => {
    const p = `${prefix}inbound:`;
    const guard = new RedisSendGuard(redis, { keyPrefix: p });
    const [sec, micro] = await redis.time();
    const redisNow = (Number(sec) * 1000 + Number(micro) / 1000).toFixed(3);
    await redis.zadd(createRedisKeys(p).throughputWindow('N'), redisNow, 'in:wamid.A', redisNow, 'in:wamid.A:1');
    const claim = (job: string): LedgerClaim => ({ key: `${p}ledger:${job}`, value: '{"st":"claimed","a":0,"owner":"o","at":1}', attempt: 0, ttlMs: 60_000 });
    const send = (member: string) => ({ member, windowMs: 1_000, cap: 3, gapMs: 0, claim: claim(member) });
    expect((await guard.admit('N', send('m1'))).kind).toBe('admitted');
    const held = await guard.admit('N', send('m2'));
    expect(held.kind === 'held' && held.waitMs > 900).toBe(true);
  });
  it("reads each active number's inbound rate from the normaliser's buckets, and forgets numbers no longer asked about", async () => {
    const p = `${prefix}rates:`;
    const keys = createRedisKeys(p);
    let now = Date.now();
    const logger = { warn: () => undefined } as unknown as Logger;
    const rates = new RedisInboundRates(redis, { keys, clock: { now: () => now }, refreshMs: 1_000, logger });
    const bucket = inboundRateBucket(now);
    // 4 msg/s over the last 30 s: 20 per 5 s bucket, and as many in the current one so far.
    await redis.hset(keys.inboundRate('N'), Object.fromEntries([...Array(7).keys()].map((i) => [String(bucket - 6 + i), '20'])));
    expect(rates.rateOf('N').mps).toBe(0); // not read yet: the configured headroom applies
    expect(rates.rateOf('quiet').mps).toBe(0);
    await rates.refresh();
    expect(rates.rateOf('N').mps).toBeGreaterThan(4);
    expect(rates.rateOf('N').mps).toBeLessThanOrEqual(6); // the 10 s view: 60 in 10 s and part of the current bucket
    expect(rates.rateOf('quiet').mps).toBe(0);
    now += 61_000;
    rates.rateOf('quiet');
    await rates.refresh();
    // 'N' was not asked about for a minute: dropped (it reads as unknown, 0), not kept at its old rate.
    expect(rates.rateOf('N').mps).toBe(0);
  });
  it('moves of one event-loop turn go out in two script calls, the first at once, and each lands where its own send was written', async () => {
    const p = `${prefix}moves:`;
    const guard = new RedisSendGuard(redis, { keyPrefix: p });
    const wins = ['A', 'B', 'C'].map((n) => createRedisKeys(p).throughputWindow(n));
    const [sec, micro] = await redis.time();
    const redisAt = Number(sec) * 1000 + Number(micro) / 1000 - 500;
    for (const [i, win] of wins.entries()) await redis.zadd(win, redisAt.toFixed(3), `m${i}`, redisAt.toFixed(3), `x${i}`);
    const calls: unknown[][] = [];
    const r = redis as unknown as { moveSends: (...args: unknown[]) => Promise<number> };
    const original = r.moveSends.bind(redis);
    r.moveSends = (...args: unknown[]) => (calls.push(args), original(...args));
    try {
      const now = Date.now();
      ['A', 'B', 'C'].forEach((n, i) => guard.move(n, `m${i}`, now - 100 * i));
      guard.move('A', 'gone', now);
      expect(calls).toHaveLength(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toHaveLength(2);
      expect(calls[1]![0]).toBe(3);
    } finally {
      r.moveSends = original;
    }
    await redis.ping();
    const [sec2, micro2] = await redis.time();
    const redisNow = Number(sec2) * 1000 + Number(micro2) / 1000;
    for (const [i, win] of wins.entries()) {
      const at = Number(await redis.zscore(win, `m${i}`));
      // Placed 100·i ms before Redis' present when the call ran (a few ms at most before this read).
      expect(redisNow - at).toBeGreaterThanOrEqual(100 * i);
      expect(redisNow - at).toBeLessThan(100 * i + 50);
      expect(Number(await redis.zscore(win, `x${i}`))).toBeCloseTo(redisAt, 2);
    }
    expect(await redis.zscore(wins[0]!, 'gone')).toBeNull();
  });
});
