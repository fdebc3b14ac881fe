import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexCatalog } from '@wa/shared/catalog';
import { createLogger } from '@wa/shared/logger';
import { createRedis, type Redis } from '@wa/shared/redis';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
// The dispatcher is the reader of what the webhook writes: read back through its adapter.
import { RedisAccountState } from '../../../dispatcher/src/adapters/redis-account-state';
import { RedisState } from '../../src/adapters/redis-state';

// Opt-out ordering against the real Redis: a late redelivery of an older START/STOP must not undo a newer one.
const WABA = '102290129340398';
const PHONE = '106540352242922';
let redis: Redis;
let prefix: string;
let state: RedisState;
let reader: RedisAccountState;

beforeAll(async () => {
  redis = createRedis(testInfra().redisUrl);
  await redis.connect();
  prefix = `${uniqueName('sec-optout')}:`;
  const keys = createRedisKeys(prefix);
  state = new RedisState(redis, keys, { dedupeTtlS: 60, clock: { now: () => Date.now() } });
  const catalog = indexCatalog({ businesses: [], phoneNumbers: [], pools: {}, templates: [] } as never);
  reader = new RedisAccountState(redis, { keys, keyPrefix: prefix, catalog, refreshMs: 60_000, logger: createLogger({ service: 'test', level: 'silent' }) });
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

const optedOut = async (waId: string) => (await reader.recipient(PHONE, WABA, waId)).optedOut;
const change = (kind: 'opt_out' | 'opt_in', waId: string, atMs: number) => ({ kind, wabaId: WABA, waId, atMs });

describe('opt-out ordering by event time', () => {
  it('STOP at t2, then a redelivered START from t1: still opted out', async () => {
    const waId = '14155550101';
    await state.apply([change('opt_out', waId, 2_000_000)]);
    expect(await optedOut(waId)).toBe(true);
    await state.apply([change('opt_in', waId, 1_000_000)]);
    expect(await optedOut(waId)).toBe(true);
  });

  it('START at t2, then a redelivered STOP from t1: stays opted in; a newer STOP opts out again', async () => {
    const waId = '14155550102';
    await state.apply([change('opt_out', waId, 1_000_000), change('opt_in', waId, 2_000_000)]);
    expect(await optedOut(waId)).toBe(false);
    await state.apply([change('opt_out', waId, 1_500_000)]);
    expect(await optedOut(waId)).toBe(false);
    await state.apply([change('opt_out', waId, 3_000_000)]);
    expect(await optedOut(waId)).toBe(true);
  });

  it('a STOP and a START with the same timestamp: the opt-out wins in either order; an opt-in expires, an opt-out does not', async () => {
    const a = '14155550103';
    const b = '14155550104';
    await state.apply([change('opt_out', a, 5_000_000), change('opt_in', a, 5_000_000)]);
    await state.apply([change('opt_in', b, 5_000_000), change('opt_out', b, 5_000_000)]);
    expect(await optedOut(a)).toBe(true);
    expect(await optedOut(b)).toBe(true);
    const keys = createRedisKeys(prefix);
    expect(await redis.pttl(keys.optOut(WABA, a))).toBe(-1);
    const c = '14155550105';
    await state.apply([change('opt_in', c, 5_000_000)]);
    expect(await redis.pttl(keys.optOut(WABA, c))).toBeGreaterThan(0);
  });
});
