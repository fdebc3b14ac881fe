import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '@wa/shared/clock';
import { RedisBuckets } from '@wa/shared/redis-buckets';
import type { ClaimResult, IdempotencyStore } from '../ports';

/**
 * KEYS: per item ARGV[1] candidate buckets then its legacy key (flattened); ARGV[2] the index among
 * the buckets of the one a new claim is written to, ARGV[3] its TTL in ms; then per item its field,
 * owner digest and owner. A legacy key (one string key per idempotency key, holding the owner) from
 * before the bucketed layout still counts until it expires.
 */
const CLAIM = `
local n = tonumber(ARGV[1])
local wi = tonumber(ARGV[2])
local out = {}
for i = 1, (#ARGV - 3) / 3 do
  local field, owner = ARGV[1 + 3 * i], ARGV[2 + 3 * i]
  local base = (i - 1) * (n + 1)
  local found = false
  for j = 1, n do
    found = redis.call('HGET', KEYS[base + j], field)
    if found then break end
  end
  if not found then
    local legacy = redis.call('GET', KEYS[base + n + 1])
    if legacy then found = (legacy == ARGV[3 + 3 * i]) and owner or '' end
  end
  if not found then
    redis.call('HSET', KEYS[base + wi], field, owner)
    redis.call('PEXPIRE', KEYS[base + wi], ARGV[3])
    out[i] = 1
  elseif found == owner then
    out[i] = 2
  else
    out[i] = 0
  end
end
return out`;

const RELEASE = `
local n = tonumber(ARGV[1])
for i = 1, (#ARGV - 1) / 3 do
  local field, owner = ARGV[3 * i - 1], ARGV[3 * i]
  local base = (i - 1) * (n + 1)
  for j = 1, n do
    if redis.call('HGET', KEYS[base + j], field) == owner then redis.call('HDEL', KEYS[base + j], field) end
  end
  if redis.call('GET', KEYS[base + n + 1]) == ARGV[3 * i + 1] then redis.call('DEL', KEYS[base + n + 1]) end
end
return 1`;

/** Default bucket bits: ~64 keys per bucket at 2 M requests a day. */
export const IDEMPOTENCY_BUCKET_BITS = 15;

/**
 * Idempotency keys in Redis, remembered across restarts for at least the TTL. The value is (a digest
 * of) the owner of the claim, so the replay of a record whose processing was interrupted is told apart
 * from a second submission with the same key. Keys are stored as 8-byte digests in per-window hash
 * buckets (see shared/src/redis-buckets.ts): ~20 bytes per key instead of ~136.
 */
export function createRedisIdempotencyStore(
  redis: Redis,
  options: { keyPrefix: string; ttlSeconds: number; bucketBits?: number; clock?: Clock },
): IdempotencyStore {
  const set = new RedisBuckets({
    prefix: `${options.keyPrefix}ingest:idem-b:`,
    horizonMs: options.ttlSeconds * 1000,
    bucketBits: options.bucketBits ?? IDEMPOTENCY_BUCKET_BITS,
  });
  const clock = options.clock ?? systemClock;
  /** The layout before the buckets: read (never written) until its keys have expired. */
  const legacyKey = (k: string) => `${options.keyPrefix}ingest:idem:${k}`;
  const layout = (items: readonly { key: string; owner: string }[], windows: number[]) => {
    const keys: string[] = [];
    const args: (Buffer | string)[] = [];
    for (const item of items) {
      const { bucket, field } = set.slot(item.key);
      for (const w of windows) keys.push(set.key(w, bucket));
      keys.push(legacyKey(item.key));
      args.push(field, RedisBuckets.digest(item.owner), item.owner);
    }
    return { keys, args };
  };
  return {
    async claim(items) {
      if (items.length === 0) return [];
      const at = clock.now();
      const windows = set.readWindows(at);
      const write = set.writeWindow(at);
      const { keys, args } = layout(items, windows);
      const raw = (await redis.eval(CLAIM, keys.length, ...keys, windows.length, windows.indexOf(write.window) + 1, write.ttlMs, ...args)) as number[];
      return raw.map((r): ClaimResult => (r === 1 ? 'new' : r === 2 ? 'owned' : 'duplicate'));
    },
    async release(items) {
      if (items.length === 0) return;
      const windows = set.readWindows(clock.now());
      const { keys, args } = layout(items, windows);
      await redis.eval(RELEASE, keys.length, ...keys, windows.length, ...args);
    },
  };
}
