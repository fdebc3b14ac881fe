import { describe, expect, it } from 'vitest';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { RedisRateLimiter } from '../../src/adapters/redis-limits';
import { systemClock } from '../../src/ports';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('send guard while a number is cold (real Redis)', () => {
  it("counts a number's late-answered sends at their answer time for its first 2 s, not only for its first 100 answers", async () => {
    const redis = createRedis(testInfra().redisUrl);
    const prefix = `${uniqueName('cold')}:`;
    const limiter = new RedisRateLimiter(redis, { keyPrefix: prefix, headroomFraction: 0.02, decreaseFactor: 0.9, coolDownMs: 10_000, limitOf: () => 1_000, clock: systemClock });
    let seq = 0;
    // Sends whose answers come back 10 ms after the send (later than the 3 ms a warm path is allowed).
    const sendAnsweredLate = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const a = await limiter.admit('1001', { key: `${prefix}ledger:${seq++}`, value: '{"st":"sending","a":1}', attempt: 1, ttlMs: 60_000 });
        expect(a.admitted).toBe(true);
        if (a.admitted) setTimeout(() => a.permit.answered(), 10);
      }
      await sleep(50);
    };
    try {
      const started = Date.now();
      await sendAnsweredLate(300);
      // 300 sends at 1,000 msg/s take well under 2 s: all of them are still cold.
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(limiter.lateAnswers).toBe(300);
      await sleep(2_100 - (Date.now() - started));
      await sendAnsweredLate(50);
      // Past 100 answers and 2 s the path is warm: a late answer no longer moves its send.
      expect(limiter.lateAnswers).toBe(300);
    } finally {
      limiter.close();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it("keeps a slow number's sends apart from their admissions, not from where a cold send's answer moved it", async () => {
    const redis = createRedis(testInfra().redisUrl);
    const prefix = `${uniqueName('gap')}:`;
    // 10 msg/s with 2 % headroom: slots of 102 ms, so sends are kept at least half a slot (51 ms) apart.
    const limiter = new RedisRateLimiter(redis, { keyPrefix: prefix, headroomFraction: 0.02, decreaseFactor: 0.9, coolDownMs: 10_000, limitOf: () => 10, clock: systemClock });
    let seq = 0;
    const admit = async () => {
      const t0 = performance.now();
      const a = await limiter.admit('1001', { key: `${prefix}ledger:${seq++}`, value: '{"st":"sending","a":1}', attempt: 1, ttlMs: 60_000 });
      if (!a.admitted) throw new Error('expected an admission');
      return { permit: a.permit, waitedMs: performance.now() - t0 };
    };
    try {
      await limiter.calibrate();
      const first = await admit();
      // Answered 90 ms after its admission while the number is cold: counted until then in the window.
      await sleep(90);
      first.permit.answered();
      expect(limiter.lateAnswers).toBe(1);
      // 90 ms after the first admission the gap has passed: the next send goes at once (measured from
      // the moved send it would wait another ~50 ms).
      const second = await admit();
      expect(second.waitedMs).toBeLessThan(40);
      // The gap still holds between admissions.
      const third = await admit();
      expect(third.waitedMs).toBeGreaterThan(40);
    } finally {
      limiter.close();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    }
  });
});
