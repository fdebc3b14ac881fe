import type { Redis } from 'ioredis';
import type { Clock } from '@wa/shared/clock';
import { AppError } from '@wa/shared/errors';

import { SERVICE_WINDOW_MS, type RedisKeys } from '@wa/shared/redis-keys';
import type { StateChange } from '../domain/state-changes';

/** Extends a window only forward: an out-of-order older inbound must not shorten it. */
const WINDOW_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]))
local at = tonumber(ARGV[1])
if cur and cur >= at then return 0 end
local ttl = at + tonumber(ARGV[3]) - tonumber(ARGV[2])
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`;

/**
 * Writes JSON state only when it is not older than what is stored (webhooks arrive out of order).
 * With ARGV[3] = '1', a new value whose quality is UNKNOWN keeps the stored quality.
 */
const SET_IF_NEWER_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local new = ARGV[1]
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and type(old.updatedAt) == 'string' and old.updatedAt > ARGV[2] then return 0 end
  if ok and type(old) == 'table' and ARGV[3] == '1' and type(old.quality) == 'string' then
    local ok2, obj = pcall(cjson.decode, new)
    if ok2 and obj.quality == 'UNKNOWN' then
      obj.quality = old.quality
      new = cjson.encode(obj)
    end
  end
end
redis.call('SET', KEYS[1], new)
return 1`;

export interface StateApplyResult {
  applied: number;
  skipped: { change: StateChange; reason: string }[];
  published: number;
}

function redisError(err: unknown, operation: string): AppError {
  if (err instanceof AppError) return err;
  return new AppError('redis_unavailable', `${operation}: ${err instanceof Error ? err.message : String(err)}`, 'retry', { cause: err });
}

/**
 * The Redis state the dispatcher reads (service windows, opt-outs, tiers, quality, templates) plus
 * the normaliser's dedupe markers. Key names come only from `createRedisKeys` in shared.
 */
export class RedisState {
  private readonly knownDisplays = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: { dedupeTtlS: number; clock: Clock },
  ) {}

  /** Event ids already normalised and forwarded (Meta redeliveries). */
  async seen(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const values = await this.redis.mget(eventIds.map((id) => this.keys.webhookSeen(id)));
      return new Set(eventIds.filter((_, i) => values[i] !== null));
    } catch (err) {
      throw redisError(err, 'dedupe lookup');
    }
  }

  /**
   * Marks events as forwarded. Called only after their records were acknowledged by Kafka, so a
   * crash in between re-forwards (at-least-once) rather than losing an event.
   */
  async markSeen(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of eventIds) pipeline.set(this.keys.webhookSeen(id), '1', 'EX', this.options.dedupeTtlS);
    await this.exec(pipeline, 'dedupe mark');
  }

  async rememberPhoneNumbers(pairs: readonly { phoneNumberId: string; displayPhoneNumber: string }[]): Promise<void> {
    const fresh = pairs.filter((p) => this.knownDisplays.get(p.displayPhoneNumber) !== p.phoneNumberId);
    if (fresh.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const p of fresh) pipeline.set(this.keys.phoneNumberIdByDisplay(p.displayPhoneNumber), p.phoneNumberId);
    await this.exec(pipeline, 'phone number mapping');
    for (const p of fresh) this.knownDisplays.set(p.displayPhoneNumber, p.phoneNumberId);
  }

  private async resolvePhoneNumberId(display: string): Promise<string | undefined> {
    const cached = this.knownDisplays.get(display);
    if (cached !== undefined) return cached;
    try {
      return (await this.redis.get(this.keys.phoneNumberIdByDisplay(display))) ?? undefined;
    } catch (err) {
      throw redisError(err, 'phone number lookup');
    }
  }

  /** Applies state changes in order; account changes are announced on the changes channel. */
  async apply(changes: readonly StateChange[]): Promise<StateApplyResult> {
    const result: StateApplyResult = { applied: 0, skipped: [], published: 0 };
    if (changes.length === 0) return result;
    const now = this.options.clock.now();
    const pipeline = this.redis.pipeline();
    const announce: Record<string, unknown>[] = [];
    for (const change of changes) {
      switch (change.kind) {
        case 'service_window':
          pipeline.eval(WINDOW_SCRIPT, 1, this.keys.serviceWindow(change.phoneNumberId, change.waId), String(change.lastInboundMs), String(now), String(SERVICE_WINDOW_MS));
          break;
        case 'opt_out':
          pipeline.set(this.keys.optOut(change.wabaId, change.waId), '1');
          break;
        case 'opt_in':
          pipeline.del(this.keys.optOut(change.wabaId, change.waId));
          break;
        case 'messaging_limit':
          pipeline.eval(SET_IF_NEWER_SCRIPT, 1, this.keys.messagingLimit(change.wabaId), JSON.stringify(change.value), change.value.updatedAt, '0');
          announce.push({ kind: change.kind, wabaId: change.wabaId, limit: change.value.limit });
          break;
        case 'phone_quality': {
          const phoneNumberId = change.phoneNumberId ?? (change.displayPhoneNumber !== undefined ? await this.resolvePhoneNumberId(change.displayPhoneNumber) : undefined);
          if (phoneNumberId === undefined) {
            result.skipped.push({ change, reason: 'phone number id unknown for this display number' });
            continue;
          }
          pipeline.eval(SET_IF_NEWER_SCRIPT, 1, this.keys.phoneQuality(phoneNumberId), JSON.stringify(change.value), change.value.updatedAt, '1');
          announce.push({ kind: change.kind, wabaId: change.wabaId, phoneNumberId, quality: change.value.quality });
          break;
        }
        case 'template_status':
          pipeline.set(this.keys.templateStatus(change.wabaId, change.name, change.language), change.status);
          announce.push({ kind: change.kind, wabaId: change.wabaId, name: change.name, language: change.language, status: change.status });
          break;
        case 'pricing_tier':
          pipeline.eval(SET_IF_NEWER_SCRIPT, 1, this.keys.pricingTier(change.wabaId), JSON.stringify(change.value), String(change.value.updatedAt), '0');
          announce.push({ kind: change.kind, wabaId: change.wabaId });
          break;
      }
      result.applied += 1;
    }
    for (const message of announce) pipeline.publish(this.keys.accountChangesChannel(), JSON.stringify(message));
    await this.exec(pipeline, 'state update');
    result.published = announce.length;
    return result;
  }

  private async exec(pipeline: ReturnType<Redis['pipeline']>, operation: string): Promise<void> {
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw redisError(err, operation);
    }
    const failed = replies?.find(([err]) => err !== null);
    if (failed?.[0]) throw redisError(failed[0], operation);
  }
}
