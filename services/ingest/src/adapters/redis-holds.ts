import type { Redis } from 'ioredis';
import type { BufferedJob } from '../domain/coalesce';
import type { DueItem, HeldJobs, HeldRequest, HoldStore } from '../ports';

// Held work lives in one sorted set scored by due time. Requests and job groups keep their
// payload in a hash; a coalescing buffer is a list named by its member.
const BUFFER = `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
  if not redis.call('ZSCORE', KEYS[3], ARGV[4]) then
    redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[4])
  end
  return 1
end
return 0`;

const TAKE = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, m in ipairs(members) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], m) or ''
end
return out`;

// Only the entries that were read are removed: a job buffered during the flush stays and is
// flushed on the next poll.
const ACK_BUFFER = `
redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[2])
end
return 1`;

export function createRedisHoldStore(redis: Redis, options: { keyPrefix: string; bufferTtlSeconds: number; name?: string }): HoldStore {
  const p = `${options.keyPrefix}ingest:`;
  const zset = `${p}${options.name ?? 'held'}`;
  const data = `${zset}:data`;
  const listKey = (member: string) => `${p}buf:${member.slice(2)}`;
  const readCounts = new WeakMap<DueItem, number>();

  return {
    async hold(member, payload, dueMs) {
      await redis.multi().hset(data, member, JSON.stringify(payload)).zadd(zset, dueMs, member).exec();
    },
    async buffer(bufferId, entry, windowMs, nowMs) {
      const member = `c:${bufferId}`;
      const r = await redis.eval(
        BUFFER,
        3,
        `${p}cseen:${entry.job.jobId}`,
        listKey(member),
        zset,
        JSON.stringify(entry),
        options.bufferTtlSeconds,
        nowMs + windowMs,
        member,
      );
      return r === 1;
    },
    async takeDue(nowMs, limit, leaseMs) {
      const raw = (await redis.eval(TAKE, 2, zset, data, nowMs, limit, nowMs + leaseMs)) as string[];
      const items: DueItem[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const member = raw[i]!;
        const payload = raw[i + 1]!;
        if (member.startsWith('c:')) {
          const entries = (await redis.lrange(listKey(member), 0, -1)).map((e) => JSON.parse(e) as BufferedJob);
          const item: DueItem = { member, kind: 'coalesce', entries };
          readCounts.set(item, entries.length);
          items.push(item);
        } else if (payload !== '') {
          const held = JSON.parse(payload) as HeldRequest | HeldJobs;
          items.push(held.kind === 'request' ? { member, kind: 'request', held } : { member, kind: 'jobs', held });
        } else {
          await redis.zrem(zset, member);
        }
      }
      return items;
    },
    async ack(item, nowMs) {
      if (item.kind === 'coalesce') {
        await redis.eval(ACK_BUFFER, 2, listKey(item.member), zset, readCounts.get(item) ?? item.entries.length, item.member, nowMs);
        return;
      }
      await redis.multi().zrem(zset, item.member).hdel(data, item.member).exec();
    },
    async release(item, dueMs) {
      // XX: only reschedule a member that is still there (an ack in between removed it).
      await redis.zadd(zset, 'XX', dueMs, item.member);
    },
    async pending() {
      return redis.zcard(zset);
    },
  };
}
