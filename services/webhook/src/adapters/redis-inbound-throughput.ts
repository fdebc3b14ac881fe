import type { Redis } from 'ioredis';
import type { Clock } from '@wa/shared/clock';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import { INBOUND_RATE_HOLD_MS, inboundRateBucket } from '@wa/shared/inbound-rate';
import { THROUGHPUT_WINDOW_MS, type RedisKeys } from '@wa/shared/redis-keys';

/**
 * Per inbound message i: KEYS[2i-1] its number's throughput window, KEYS[2i] its number's rate buckets;
 * ARGV[3i+1..3i+3] = window member ('' = too old for the window), bucket, weight. Window members are scored at
 * Redis' present (the send guard's clock); a window's TTL (ARGV[1]) is only ever raised (the guard sets it
 * too); ARGV[2] is the buckets' TTL. Returns how many went into a window.
 */
const COUNT_INBOUND_LUA = `
local t = redis.call('TIME')
local now = string.format('%.3f', tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local counted = 0
for i = 1, #KEYS / 2 do
  local member = ARGV[3 * i]
  redis.call('HINCRBY', KEYS[2 * i], ARGV[3 * i + 1], 1)
  redis.call('PEXPIRE', KEYS[2 * i], ARGV[2])
  if member ~= '' then
    for w = 0, tonumber(ARGV[3 * i + 2]) - 1 do
      redis.call('ZADD', KEYS[2 * i - 1], 'NX', now, w == 0 and member or (member .. ':' .. w))
    end
    if redis.call('PTTL', KEYS[2 * i - 1]) < ttl then redis.call('PEXPIRE', KEYS[2 * i - 1], ttl) end
    counted = counted + 1
  end
end
return counted`;

interface CountInboundRedis extends Redis {
  countInbound(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
}

/**
 * Meta's throughput counts inbound messages with the outbound ones (developers.facebook.com/documentation/
 * business-messaging/whatsapp/throughput: "inclusive of inbound and outbound messages"). For each inbound
 * message the normaliser reads:
 * - its number's inbound rate (shared/inbound-rate.ts) counts it by Meta's timestamp, so the dispatchers pace
 *   below the limit by what people send, however late the webhooks come;
 * - while Meta may still count it (its timestamp within the last two seconds), it goes into the number's
 *   throughput window, stamped when the normaliser learned of it, so the sends admitted in the following
 *   second leave room for it. It holds `weight` slots: itself, and a reserve for messages Meta has counted
 *   whose webhooks are still on their way.
 */
export class RedisInboundThroughput {
  private readonly redis: CountInboundRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: { clock: Clock; weight: number },
  ) {
    if (!('countInbound' in redis)) redis.defineCommand('countInbound', { lua: COUNT_INBOUND_LUA });
    this.redis = redis as CountInboundRedis;
  }

  /** Counts the messages; returns how many Meta may still hold in a number's current window (redeliveries and backlog are older). */
  async count(events: readonly InboundEventV1[]): Promise<number> {
    const now = this.options.clock.now();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const e of events) {
      const sentAt = Date.parse(e.sentAt);
      if (!(sentAt > now - INBOUND_RATE_HOLD_MS)) continue;
      // `sentAt` is Meta's timestamp, whole seconds: the message arrived within the second after it.
      const inWindow = this.options.weight > 0 && sentAt + 1_000 + THROUGHPUT_WINDOW_MS > now;
      keys.push(this.keys.throughputWindow(e.phoneNumberId), this.keys.inboundRate(e.phoneNumberId));
      args.push(inWindow ? `in:${e.wamid}` : '', inboundRateBucket(sentAt), this.options.weight);
    }
    if (keys.length === 0) return 0;
    return this.redis.countInbound(keys.length, ...keys, 2 * THROUGHPUT_WINDOW_MS, 2 * INBOUND_RATE_HOLD_MS, ...args);
  }
}
