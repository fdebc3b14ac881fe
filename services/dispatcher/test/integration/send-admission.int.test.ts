import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '@wa/shared/redis';
import { testInfra, uniqueName } from '@wa/shared/testing';
import { RedisLedger } from '../../src/adapters/redis-ledger';
import { RedisRateLimiter } from '../../src/adapters/redis-limits';
import { createSemaphore } from '../../src/domain/semaphore';
import { systemClock, type Admission } from '../../src/ports';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('send admission and Graph API connections (real Redis)', () => {
  it("sends queued behind a number's held send wait without a connection, so other numbers' sends are not held up", async () => {
    const prefix = `${uniqueName('admit')}:`;
    const redis: Redis = createRedis(testInfra().redisUrl, { enableAutoPipelining: true });
    await redis.connect();
    // Number A: 2 msg/s (the guard lets 1 through per sliding second); B: 1,000 msg/s.
    const limiter = new RedisRateLimiter(redis, { keyPrefix: prefix, headroomFraction: 0, decreaseFactor: 0.9, coolDownMs: 10_000, limitOf: (id) => (id === 'A' ? 2 : 1_000), clock: systemClock });
    const ledger = new RedisLedger(redis, { keyPrefix: prefix, ttlMs: 60_000 });
    await limiter.calibrate();
    await ledger.start();
    const connections = createSemaphore(2);
    cleanup = async () => {
      limiter.close();
      await ledger.stop();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    };
    let job = 0;
    const admit = (number: string) => limiter.admit(number, ledger.claimRequest(`job-${job++}`, 0), connections);
    const answered = (a: Admission) => {
      if (!a.admitted) throw new Error('not admitted');
      a.permit.answered();
      connections.release();
    };

    answered(await admit('A')); // A's window is now full for a second
    const heldA = [admit('A'), admit('A'), admit('A'), admit('A')].map((p) => p.catch(() => undefined));
    await new Promise((r) => setTimeout(r, 100));
    // The three queued behind A's head hold no connection; the head holds one at most (none while its
    // own send log says wait, one while the shared guard does).
    expect(connections.active).toBeLessThanOrEqual(1);

    const t0 = performance.now();
    const b1 = await admit('B');
    const b1Ms = performance.now() - t0;
    expect(b1.admitted).toBe(true);
    expect(connections.active).toBeLessThanOrEqual(2);
    answered(b1);
    const b2 = await admit('B');
    answered(b2);
    console.log(`B admitted after ${b1Ms.toFixed(1)} ms while A had 4 sends held`);
    // Before, every queued send of A held a connection: B waited for A's window (about a second per send).
    expect(b1Ms).toBeLessThan(300);

    const first = await heldA[0]!;
    expect(first?.admitted).toBe(true);
    answered(first!);
    expect(connections.active).toBeLessThanOrEqual(1); // the next of A heads the queue now
    await Promise.all(heldA.slice(1).map(async (p) => {
      const a = await p;
      if (a?.admitted) answered(a);
    }));
    expect(connections.active).toBe(0); // every connection given back
  }, 20_000);
});
