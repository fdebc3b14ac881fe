import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '../../src/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '../../src/testing';

// Redis is shared with other test runs: every key lives under this run's prefix, and cleanup
// deletes exactly those keys (never FLUSHDB/FLUSHALL).

const prefix = `${uniqueName('it-redis')}:`;
let redis: Redis;

beforeAll(async () => {
  redis = createRedis(testInfra().redisUrl, { keyPrefix: prefix });
  await redis.connect();
});

afterAll(async () => {
  // keyPrefix does not apply to SCAN patterns or to the keys SCAN returns.
  const raw = createRedis(testInfra().redisUrl);
  await raw.connect();
  try {
    await deleteKeysWithPrefix(raw, prefix);
  } finally {
    raw.disconnect();
    redis.disconnect();
  }
});

describe('Redis round trip', () => {
  it('stores and reads strings, hashes and expiring keys', async () => {
    await redis.set('greeting', 'hello');
    expect(await redis.get('greeting')).toBe('hello');

    await redis.hset('job:1', { status: 'claimed', attempt: '1' });
    expect(await redis.hgetall('job:1')).toEqual({ status: 'claimed', attempt: '1' });

    await redis.set('window', 'open', 'PX', 60_000);
    const ttl = await redis.pttl('window');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);

    expect(await redis.get('missing')).toBeNull();
  });

  it('claims a key only once with SET NX (the primitive behind send ledgers and dedupe)', async () => {
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.set('claim', `worker-${i}`, 'PX', 60_000, 'NX')));
    expect(claims.filter((c) => c === 'OK')).toHaveLength(1);
    expect(claims.filter((c) => c === null)).toHaveLength(19);
  });

  it('runs Lua scripts and pipelines atomically under the key prefix', async () => {
    const incrBy = 'local v = redis.call("INCRBY", KEYS[1], ARGV[1]); redis.call("PEXPIRE", KEYS[1], ARGV[2]); return v';
    expect(await redis.eval(incrBy, 1, 'counter', 5, 60_000)).toBe(5);
    expect(await redis.eval(incrBy, 1, 'counter', 2, 60_000)).toBe(7);

    const results = await redis.multi().incr('n').incr('n').get('n').exec();
    expect(results?.map(([err, value]) => [err, value])).toEqual([
      [null, 1],
      [null, 2],
      [null, '2'],
    ]);
  });
});
