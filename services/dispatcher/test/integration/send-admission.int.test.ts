import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { testInfra, uniqueName } from '@wa/shared/testing';
import { RedisLedger } from '../../src/adapters/redis-ledger';
import { RedisRateLimiter } from '../../src/adapters/redis-limits';
import { createSemaphore } from '../../src/domain/semaphore';
import { systemClock, type Admission, type Permits } from '../../src/ports';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Resolves to 'pending' if `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

/** A TCP proxy to Redis that holds every chunk `oneWayMs` in each direction: a Redis round trip as slow as a busy event loop makes it. */
async function slowLinkToRedis(oneWayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(testInfra().redisUrl);
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), oneWayMs));
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      // No Nagle: it would hold small writes for the ACK of the previous one and clump the commands.
      s.setNoDelay(true);
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A limiter and ledger on real Redis under a fresh key prefix, removed after the test; like the service, pacing has a connection without auto-pipelining. */
async function limiterOnRedis(limitOf: (id: string) => number, connections?: Permits, redisUrl = testInfra().redisUrl) {
  const prefix = `${uniqueName('admit')}:`;
  const redis: Redis = createRedis(redisUrl);
  await redis.connect();
  const limiter = new RedisRateLimiter(redis, { keyPrefix: prefix, headroomFraction: 0, decreaseFactor: 0.9, coolDownMs: 10_000, limitOf, clock: systemClock, ...(connections ? { connections } : {}) });
  const ledger = new RedisLedger(redis, { keyPrefix: prefix, ttlMs: 60_000 });
  await limiter.calibrate();
  await ledger.start();
  cleanup = async () => {
    limiter.close();
    await ledger.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  };
  return { limiter, ledger };
}

/**
 * One number at `mps` whose limiter reaches Redis through a link of `oneWayMs` each way; admitAt()
 * admits the next job (answered at once) and resolves with its admission time.
 */
async function numberThroughSlowLink(phoneNumberId: string, mps: number, oneWayMs: number) {
  const link = await slowLinkToRedis(oneWayMs);
  const { limiter, ledger } = await limiterOnRedis(() => mps, undefined, link.url);
  const closeLimiter = cleanup;
  cleanup = async () => {
    await closeLimiter?.();
    await link.close();
  };
  let job = 0;
  const admitAt = async () => {
    const a = await limiter.admit(phoneNumberId, ledger.claimRequest(`job-${phoneNumberId}${job++}`, 0));
    if (!a.admitted) throw new Error('not admitted');
    a.permit.answered();
    return performance.now();
  };
  return { limiter, admitAt };
}

/** The most admissions (sorted times) within any `ms`. */
function densestWithin(times: number[], ms: number): number {
  let densest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! > ms) j++;
    densest = Math.max(densest, i - j + 1);
  }
  return densest;
}

describe('send admission and Graph API connections (real Redis)', () => {
  it('an admitted send holds a pool connection until answered; sends held by the guard or queued behind a held one hold none', async () => {
    const connections = createSemaphore(1);
    // Number A: 2 msg/s (its guard lets one send through per sliding second); B and C: 1,000 msg/s.
    const { limiter, ledger } = await limiterOnRedis((id) => (id === 'A' ? 2 : 1_000), connections);
    let job = 0;
    const admit = (number: string) => limiter.admit(number, ledger.claimRequest(`job-${job++}`, 0));
    const admitted = (a: Admission | 'pending') => {
      if (a === 'pending' || !a.admitted) throw new Error(`expected an admission, got ${a === 'pending' ? 'none yet' : 'a ledger entry'}`);
      return a.permit;
    };

    // The only connection is taken by B's send: C's due send waits for it instead of queueing inside
    // the HTTP client, and goes as soon as B's answer is back.
    const b = admitted(await admit('B'));
    expect(connections.active).toBe(1);
    const c = admit('C');
    expect(await within(c, 150)).toBe('pending');
    expect(limiter.connectionWaits).toBe(1);
    const t0 = performance.now();
    b.answered();
    const cPermit = admitted(await within(c, 500));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(connections.active).toBe(1);
    cPermit.answered();
    cPermit.answered(); // a second call gives nothing back twice
    expect(connections.active).toBe(0);

    // A's window is full for about a second: its next send is held by the guard and three more queue
    // behind it, none holding the connection, so B's send is not held up by them.
    admitted(await admit('A')).answered();
    const heldA = [admit('A'), admit('A'), admit('A'), admit('A')].map((p) => p.catch((err: Error) => err));
    await new Promise((r) => setTimeout(r, 100));
    expect(connections.active).toBe(0);
    const b2 = admitted(await within(admit('B'), 300));
    b2.answered();
    expect(connections.active).toBe(0);

    const a2 = await heldA[0]!;
    admitted(a2 instanceof Error ? 'pending' : a2).answered();
    limiter.close(); // the rest are turned away, and give back whatever they held
    for (const p of heldA.slice(1)) {
      const r = await p;
      if (!(r instanceof Error)) admitted(r).answered();
    }
    expect(connections.active).toBe(0);
  }, 20_000);

  it('a send whose request was written late counts in the window from its write, so the next send of a full window waits for that', async () => {
    // 2 msg/s: the guard lets one send through per sliding second.
    const { limiter, ledger } = await limiterOnRedis(() => 2);
    const first = await limiter.admit('W', ledger.claimRequest('job-w1', 0));
    if (!first.admitted) throw new Error('not admitted');
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 300));
    first.permit.written(); // the bytes left 300 ms after the admission (a busy event loop)
    first.permit.answered();
    const second = await limiter.admit('W', ledger.claimRequest('job-w2', 0));
    const waited = performance.now() - t0;
    expect(second.admitted).toBe(true);
    expect(limiter.lateWrites).toBe(1);
    console.log(`second send admitted ${waited.toFixed(0)} ms after the first's admission (its write at 300 ms)`);
    // Counted from the admission it would have gone at ~1,000 ms, and reached Meta less than a second after the first.
    expect(waited).toBeGreaterThanOrEqual(1_250);
  }, 20_000);

  it('after a hold, a backlogged number drains its queue at its paced rate, not one send per Redis round trip, and without a bunch', async () => {
    // 200 msg/s: slots of 5 ms, below the minimum-gap range, so only the window cap (199) holds sends.
    const { limiter, admitAt } = await numberThroughSlowLink('Q', 200, 10); // 20 ms round trips
    // Fill the window (199 sends within a few round trips), then queue 100 more: the first of them
    // is held until the window's sends leave it, about a second later, the rest wait behind it.
    await Promise.all(Array.from({ length: 199 }, admitAt));
    const queued = Array.from({ length: 100 }, admitAt);
    const times = (await Promise.all(queued)).sort((a, b) => a - b);
    const first = times[0]!;
    // One send per round trip would take 100 × 20 ms = 2 s; the paced rate takes 0.5 s.
    const within700 = times.filter((t) => t - first <= 700).length;
    console.log(`queued sends admitted within 700 ms of the first after the hold: ${within700} of 100 (last at +${(times[99]! - first).toFixed(0)} ms)`);
    expect(within700).toBeGreaterThanOrEqual(80);
    // Never a bunch: no 20 ms holds more than the catch-up's four slots plus one round trip's hand-ons.
    expect(densestWithin(times, 20)).toBeLessThanOrEqual(12);
    expect(limiter.heldSlots).toBeGreaterThanOrEqual(99);
  }, 30_000);

  it('a number held by its minimum gap drains its queue at its paced rate by timer, not one send per guard round trip', async () => {
    // 50 msg/s: slots of 20 ms, so admissions are kept at least 10 ms apart (the minimum gap);
    // 60 ms round trips: a dispatcher's start-up, when its event loop is busiest.
    const { admitAt } = await numberThroughSlowLink('G', 50, 30);
    // 40 sends due at once (a stall's worth): one is admitted, the next is held by the gap and the rest queue behind it.
    const started = performance.now();
    const times = (await Promise.all(Array.from({ length: 40 }, admitAt))).sort((a, b) => a - b);
    const spanMs = times[39]! - started;
    const densest = densestWithin(times, 20);
    console.log(`40 sends of a 50 msg/s number through 60 ms round trips: the last admitted at +${spanMs.toFixed(0)} ms; densest 20 ms: ${densest}`);
    // At the paced rate 40 sends take 0.8 s plus a round trip or two; one per round trip would take 2.4 s.
    expect(spanMs).toBeLessThan(1_400);
    // Still spaced: never more than two admissions within 20 ms.
    expect(densest).toBeLessThanOrEqual(2);
  }, 30_000);
});
