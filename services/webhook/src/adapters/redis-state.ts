import type { Redis } from 'ioredis';
import type { Clock } from '@wa/shared/clock';
import { AppError } from '@wa/shared/errors';

import { RedisBuckets } from '@wa/shared/redis-buckets';
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
 * Opt-out state as "<1|0>:<event ms>": applied only when not older than what is stored, so a START that
 * Meta redelivers late cannot undo a newer STOP (nor a late STOP a newer START). On a tie the opt-out wins.
 * An opt-out is kept without TTL (a compliance record); an opt-in is remembered for ARGV[3] ms (longer than
 * Meta's redelivery horizon), then the key disappears, which reads as "not opted out".
 */
const OPT_OUT_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local at = tonumber(ARGV[2])
if cur then
  local sep = string.find(cur, ':', 1, true)
  local curAt = sep and tonumber(string.sub(cur, sep + 1)) or nil
  if curAt and curAt > at then return 0 end
  if curAt and curAt == at and ARGV[1] == '0' and string.sub(cur, 1, 1) == '1' then return 0 end
end
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], '1:' .. ARGV[2])
else
  redis.call('SET', KEYS[1], '0:' .. ARGV[2], 'PX', ARGV[3])
end
return 1`;

/** How long an opt-in is remembered (to refuse an older, late-redelivered STOP); Meta redelivers for up to 7 days. */
export const OPT_IN_MEMORY_MS = 30 * 24 * 3_600_000;

/**
 * Writes JSON state only when it is not older than what is stored (webhooks arrive out of order).
 * With ARGV[3] = '1' (phone state) a new value without a rating (quality UNKNOWN) keeps the stored
 * rating, and one without a throughput keeps the stored throughput: a FLAGGED event after a
 * THROUGHPUT_UPGRADE must not drop the number back to 80 msg/s. ARGV[4], when set, is a TTL in ms.
 */
const SET_IF_NEWER_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local new = ARGV[1]
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and type(old.updatedAt) == 'string' and old.updatedAt > ARGV[2] then return 0 end
  if ok and type(old) == 'table' and ARGV[3] == '1' then
    local ok2, obj = pcall(cjson.decode, new)
    if ok2 and type(obj) == 'table' then
      if obj.quality == 'UNKNOWN' and type(old.quality) == 'string' then
        obj.quality = old.quality
        obj.qualityAt = old.qualityAt
        obj.qualitySource = old.qualitySource or old.source
      end
      if obj.throughputMps == nil and old.throughputMps ~= nil then
        obj.throughputMps = old.throughputMps
        obj.throughputAt = old.throughputAt
        obj.throughputSource = old.throughputSource or old.source
      end
      new = cjson.encode(obj)
    end
  end
end
if ARGV[4] and ARGV[4] ~= '' then redis.call('SET', KEYS[1], new, 'PX', ARGV[4]) else redis.call('SET', KEYS[1], new) end
return 1`;

/**
 * Merges one facet (ARGV[1]) of an account's standing (ARGV[2], JSON) into the stored object, unless
 * the stored facet is newer (ARGV[3] is the new facet's time); ARGV[4] is the TTL in ms.
 */
const SET_FACET_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local obj = {}
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' then obj = old end
end
local prev = obj[ARGV[1]]
if type(prev) == 'table' and type(prev.updatedAt) == 'string' and prev.updatedAt > ARGV[3] then return 0 end
obj[ARGV[1]] = cjson.decode(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(obj), 'PX', ARGV[4])
return 1`;

/** Bans and restrictions are re-announced by Meta on every change; half a year covers the longest ones seen. */
export const ACCOUNT_STANDING_TTL_MS = 180 * 24 * 3_600_000;
/** A template's re-categorisation or quality score stays until Meta reports another one (or 400 days pass). */
export const TEMPLATE_FACT_TTL_MS = 400 * 24 * 3_600_000;

/**
 * Whether any window's bucket holds an event's field. ARGV[1] is the number of windows n, ARGV[2..n+1] the
 * windows' key prefixes (newest first), then a (bucket, field) pair per event. The script joins prefix and
 * bucket itself: passing every event's key in every window (9 per event) cost the normaliser and Redis more
 * than the lookups. Keys built in a script are fine on the single Redis the product uses; several of its
 * multi-key scripts already touch keys that would sit in different Redis Cluster slots.
 */
const SEEN_SCRIPT = `
local n = tonumber(ARGV[1])
local out = {}
for i = n + 2, #ARGV, 2 do
  local bucket, field = ARGV[i], ARGV[i + 1]
  local hit = 0
  for w = 2, n + 1 do
    if redis.call('HEXISTS', ARGV[w] .. bucket, field) == 1 then hit = 1 break end
  end
  out[#out + 1] = hit
end
return out`;

/**
 * Marks events forwarded: KEYS[i] is the bucket of the field ARGV[i + 1]; every bucket written gets the
 * window's TTL (ARGV[1]). One call per batch instead of an HSET and a PEXPIRE per event.
 */
const MARK_SEEN_SCRIPT = `
local ttl = ARGV[1]
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], ARGV[i + 1], '1')
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return #KEYS`;

/** The dedupe scripts as ioredis commands: EVALSHA, so a batch sends the script's hash rather than its text. */
interface DedupeScripts {
  webhookSeen(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number[]>;
  webhookMarkSeen(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
}

function withDedupeScripts(redis: Redis): Redis & DedupeScripts {
  if (!('webhookSeen' in redis)) {
    redis.defineCommand('webhookSeen', { lua: SEEN_SCRIPT });
    redis.defineCommand('webhookMarkSeen', { lua: MARK_SEEN_SCRIPT });
  }
  return redis as Redis & DedupeScripts;
}

/** Default bucket bits of the dedupe set: ~64 event ids per bucket at 10 M messages (30 M status events) a day. */
export const DEDUPE_BUCKET_BITS = 19;

/** Phone state kept by display number lives this long without a newer write (the Graph API poll rewrites it). */
export const PHONE_STATE_TTL_MS = 90 * 24 * 3_600_000;

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
  /** Dedupe markers: 8-byte digests in per-day hash buckets, remembered for at least `dedupeTtlS`. */
  private readonly seenSet: RedisBuckets;
  private readonly dedupe: Redis & DedupeScripts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: { dedupeTtlS: number; dedupeBucketBits?: number; clock: Clock },
  ) {
    this.dedupe = withDedupeScripts(redis);
    this.seenSet = new RedisBuckets({
      prefix: keys.webhookSeenBuckets(),
      horizonMs: options.dedupeTtlS * 1000,
      bucketBits: options.dedupeBucketBits ?? DEDUPE_BUCKET_BITS,
    });
  }

  /** Event ids already normalised and forwarded (Meta redeliveries). */
  async seen(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    // Every event is looked up in every window; the script joins each window's prefix with the bucket.
    const windowKeys = this.seenSet.readWindows(this.options.clock.now()).map((w) => this.seenSet.key(w, ''));
    const args = new Array<string | Buffer>(1 + windowKeys.length + 2 * eventIds.length);
    args[0] = String(windowKeys.length);
    for (let w = 0; w < windowKeys.length; w++) args[1 + w] = windowKeys[w]!;
    let k = 1 + windowKeys.length;
    for (let i = 0; i < eventIds.length; i++) {
      const { bucket, field } = this.seenSet.slot(eventIds[i]!);
      args[k++] = bucket;
      args[k++] = field;
    }
    try {
      const hits = await this.dedupe.webhookSeen(0, ...args);
      return new Set(eventIds.filter((_, i) => hits[i] === 1));
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
    const { window, ttlMs } = this.seenSet.writeWindow(this.options.clock.now());
    const keys = new Array<string>(eventIds.length);
    const fields = new Array<Buffer>(eventIds.length);
    for (let i = 0; i < eventIds.length; i++) {
      const { bucket, field } = this.seenSet.slot(eventIds[i]!);
      keys[i] = this.seenSet.key(window, bucket);
      fields[i] = field;
    }
    try {
      await this.dedupe.webhookMarkSeen(keys.length, ...keys, ttlMs, ...fields);
    } catch (err) {
      throw redisError(err, 'dedupe mark');
    }
  }

  async rememberPhoneNumbers(pairs: readonly { phoneNumberId: string; displayPhoneNumber: string }[]): Promise<void> {
    const fresh = pairs.filter((p) => this.knownDisplays.get(p.displayPhoneNumber) !== p.phoneNumberId);
    if (fresh.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const p of fresh) pipeline.set(this.keys.phoneNumberIdByDisplay(p.displayPhoneNumber), p.phoneNumberId);
    await this.exec(pipeline, 'phone number mapping');
    for (const p of fresh) this.knownDisplays.set(p.displayPhoneNumber, p.phoneNumberId);
  }

  /** The phone number id of a business number by its display number, when a message webhook's `metadata` paired them. */
  async resolvePhoneNumberId(display: string): Promise<string | undefined> {
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
          pipeline.eval(
            WINDOW_SCRIPT,
            1,
            this.keys.serviceWindow(change.phoneNumberId, change.waId),
            String(change.lastInboundMs),
            String(now),
            String(SERVICE_WINDOW_MS),
          );
          break;
        case 'opt_out':
        case 'opt_in':
          pipeline.eval(
            OPT_OUT_SCRIPT,
            1,
            this.keys.optOut(change.wabaId, change.waId),
            change.kind === 'opt_out' ? '1' : '0',
            String(Number.isFinite(change.atMs) ? change.atMs : now),
            String(OPT_IN_MEMORY_MS),
          );
          break;
        case 'messaging_limit':
          pipeline.eval(SET_IF_NEWER_SCRIPT, 1, this.keys.messagingLimit(change.wabaId), JSON.stringify(change.value), change.value.updatedAt, '0');
          announce.push({ kind: change.kind, wabaId: change.wabaId, limit: change.value.limit });
          break;
        case 'phone_quality': {
          // Meta names the number only by its display number; the dispatcher maps it through its catalogue.
          // The id key is written too when this service already knows the pairing from `metadata`.
          const phoneNumberId =
            change.phoneNumberId ?? (change.displayPhoneNumber !== undefined ? await this.resolvePhoneNumberId(change.displayPhoneNumber) : undefined);
          if (phoneNumberId === undefined && change.displayPhoneNumber === undefined) {
            result.skipped.push({ change, reason: 'neither a phone number id nor a display number' });
            continue;
          }
          const value = JSON.stringify(change.value);
          if (change.displayPhoneNumber !== undefined) {
            pipeline.eval(
              SET_IF_NEWER_SCRIPT,
              1,
              this.keys.phoneStateByDisplay(change.displayPhoneNumber),
              value,
              change.value.updatedAt,
              '1',
              String(PHONE_STATE_TTL_MS),
            );
          }
          if (phoneNumberId !== undefined) pipeline.eval(SET_IF_NEWER_SCRIPT, 1, this.keys.phoneQuality(phoneNumberId), value, change.value.updatedAt, '1');
          const message: Record<string, unknown> = { kind: change.kind, wabaId: change.wabaId, quality: change.value.quality };
          if (phoneNumberId !== undefined) message.phoneNumberId = phoneNumberId;
          if (change.displayPhoneNumber !== undefined) message.displayPhoneNumber = change.displayPhoneNumber;
          if (change.value.throughputMps !== undefined) message.throughputMps = change.value.throughputMps;
          announce.push(message);
          break;
        }
        case 'template_status':
          pipeline.set(this.keys.templateStatus(change.wabaId, change.name, change.language), change.status);
          announce.push({ kind: change.kind, wabaId: change.wabaId, name: change.name, language: change.language, status: change.status });
          break;
        case 'account_standing':
          pipeline.eval(
            SET_FACET_SCRIPT,
            1,
            this.keys.accountStanding(change.wabaId),
            change.facet,
            JSON.stringify(change.value),
            change.value.updatedAt,
            String(ACCOUNT_STANDING_TTL_MS),
          );
          announce.push({ kind: change.kind, wabaId: change.wabaId, facet: change.facet, event: change.value.event });
          break;
        case 'template_category':
        case 'template_quality': {
          const key =
            change.kind === 'template_category'
              ? this.keys.templateCategory(change.wabaId, change.name, change.language)
              : this.keys.templateQuality(change.wabaId, change.name, change.language);
          pipeline.eval(SET_IF_NEWER_SCRIPT, 1, key, JSON.stringify(change.value), change.value.updatedAt, '0', String(TEMPLATE_FACT_TTL_MS));
          announce.push({ kind: change.kind, wabaId: change.wabaId, name: change.name, language: change.language });
          break;
        }
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
