import type { Redis } from 'ioredis';
import { addAudience, registerRequest } from '@wa/shared/campaigns';
import type { ExpansionStore } from '../ports';

// The dedupe hash maps waId → the audience index where the person first appeared: a replayed
// chunk finds its own indexes and emits them again (same job ids), later duplicates stay out.
const FIRST_SEEN = `
local out = {}
for i = 2, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    out[#out + 1] = 1
  elseif cur == ARGV[i + 1] then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return out`;

export function createRedisExpansionStore(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }): ExpansionStore {
  const progressKey = (k: string) => `${options.keyPrefix}ingest:progress:${k}`;
  const seenKey = (k: string) => `${options.keyPrefix}ingest:seen:${k}`;
  return {
    async checkpoint(requestKey) {
      const v = await redis.hgetall(progressKey(requestKey));
      if (v.next === undefined) return null;
      return { next: Number(v.next), done: v.done === '1' };
    },
    async saveCheckpoint(requestKey, next, campaign) {
      const tx = redis.multi().hset(progressKey(requestKey), 'next', next, 'done', 0).expire(progressKey(requestKey), options.ttlSeconds);
      if (campaign) addAudience(tx, options.keyPrefix, campaign.id, campaign.delta);
      await tx.exec();
    },
    async firstSeen(requestKey, items) {
      if (items.length === 0) return [];
      const args: (string | number)[] = [options.ttlSeconds];
      for (const item of items) args.push(item.waId, item.index);
      const raw = (await redis.eval(FIRST_SEEN, 1, seenKey(requestKey), ...args)) as number[];
      return raw.map((r) => r === 1);
    },
    async finish(requestKey, campaignId) {
      const tx = redis.multi().hset(progressKey(requestKey), 'done', 1).expire(progressKey(requestKey), options.ttlSeconds).del(seenKey(requestKey));
      if (campaignId !== undefined) registerRequest(tx, options.keyPrefix, campaignId, requestKey, Date.now(), 'done');
      await tx.exec();
    },
    async registerCampaignRequest(campaignId, requestKey, nowMs, done) {
      const tx = redis.multi();
      registerRequest(tx, options.keyPrefix, campaignId, requestKey, nowMs, done ? 'done' : 'queued');
      if (done) addAudience(tx, options.keyPrefix, campaignId, done);
      await tx.exec();
    },
  };
}
