import type { Redis } from 'ioredis';
import type { ClaimResult, IdempotencyStore } from '../ports';

const CLAIM = `
local ttl = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local owner = ARGV[i + 1]
  if redis.call('SET', key, owner, 'NX', 'EX', ttl) then
    out[i] = 1
  elseif redis.call('GET', key) == owner then
    out[i] = 2
  else
    out[i] = 0
  end
end
return out`;

const RELEASE = `
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then redis.call('DEL', key) end
end
return 1`;

/**
 * Idempotency keys in Redis (`SET NX EX`), remembered across restarts for the TTL. The value is
 * the owner of the claim, so the replay of a record whose processing was interrupted is told
 * apart from a second submission with the same key.
 */
export function createRedisIdempotencyStore(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }): IdempotencyStore {
  const keyOf = (k: string) => `${options.keyPrefix}ingest:idem:${k}`;
  return {
    async claim(items) {
      if (items.length === 0) return [];
      const raw = (await redis.eval(CLAIM, items.length, ...items.map((i) => keyOf(i.key)), options.ttlSeconds, ...items.map((i) => i.owner))) as number[];
      return raw.map((r): ClaimResult => (r === 1 ? 'new' : r === 2 ? 'owned' : 'duplicate'));
    },
    async release(items) {
      if (items.length === 0) return;
      await redis.eval(RELEASE, items.length, ...items.map((i) => keyOf(i.key)), ...items.map((i) => i.owner));
    },
  };
}
