import type { Redis } from 'ioredis';
import { createRedisKeys, type RedisKeys } from '@wa/shared/redis-keys';
import { ClockOffset } from '../domain/clock-offset';
import { parseLedgerEntry } from './redis-ledger';
import { systemTimers, type Clock, type GuardVerdict, type SendGuard } from '../ports';

/** How far in the past a late reservation may still take slots (catch-up after a stall). */
export const CATCH_UP_MS = 250;

/** Where the scripts read the time: Redis' own clock (TIME), so every replica shares one timeline per number. */
export const REDIS_TIME = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

/**
 * GCRA slot reservation: reserves ARGV[2] slots ARGV[1] ms apart. Returns the first reserved slot and the
 * time, 'first|now'. Slots up to ARGV[3] ms in the past may still be taken: a reservation that comes late
 * (a stalled process) catches up instead of losing that capacity; the send guard keeps the catch-up spaced.
 * A number idle for longer (or new) starts now, without a burst of credit.
 */
export function gcraLua(clock = REDIS_TIME): string {
  return `${clock}
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = tat
if tat < now - tonumber(ARGV[3]) then first = now end
local nxt = first + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', 60000)
return string.format('%.3f|%.3f', first, now)`;
}

/**
 * The send guard: Meta's own rule, shared by every replica — at most ARGV[2] requests of this number in any
 * sliding window of ARGV[1] ms (KEYS[1]): sends, counted when released, and the inbound messages the webhook
 * normaliser adds (Meta counts both) — and no two admissions closer
 * than ARGV[4] ms (KEYS[2] holds the last one), so slots that a stall bunched leave spaced. The gap counts
 * from the admission, not from where a send was moved to in the window (its write or, while cold, its
 * answer): from the answer, each cold send of an 80 msg/s number held the next until ~10 ms after its
 * answer, and the number took ~3 s to reach its rate.
 * With KEYS[3], the job's ledger claim is taken in the same step (ARGV[5..7]: value, attempt, ttl).
 * Returns 'A' and the admission's time (admitted, recorded, claimed), the ms until one more would be
 * admitted, or 'E' and the ledger entry that already exists (not admitted).
 */
export function sendGuardLua(clock = REDIS_TIME): string {
  return `${clock}
local window = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= cap then
  local oldest = redis.call('ZRANGE', KEYS[1], n - cap, n - cap, 'WITHSCORES')
  return string.format('%.3f', tonumber(oldest[2]) + window - now + 0.05)
end
local gap = tonumber(ARGV[4])
if gap > 0 then
  local last = redis.call('GET', KEYS[2])
  if last then
    local since = now - tonumber(last)
    if since < gap then return string.format('%.3f', gap - since) end
  end
end
if KEYS[3] then
  -- The send ledger's claim (see redis-ledger.ts CLAIM_LUA), in the same step as the admission, so a
  -- job is claimed only when it leaves at once: nothing waits while claimed (a crash then leaves
  -- only the sends really in flight in doubt) and no Redis round trip sits between decision and write.
  local v = redis.call('GET', KEYS[3])
  if v then
    local cur = cjson.decode(v)
    if not (cur.st == 'retry' and cur.a < tonumber(ARGV[6])) then return 'E' .. v end
  end
  redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[7])
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 2))
if gap > 0 then redis.call('SET', KEYS[2], string.format('%.3f', now), 'PX', math.ceil(window * 2)) end
return 'A' .. string.format('%.3f', now)`;
}

/**
 * Moves admitted sends later in their windows: send ARGV[2i] of window KEYS[i] to ARGV[2i-1] ms before
 * Redis' present. The caller says how long ago each send really happened on its own clock, and Redis
 * places it on its own. No clock-offset estimate in between: the estimate is a lower bound (a busy
 * process reads replies late), so a move placed through it lands early and lets one more send into Meta's second.
 */
export function moveSendLua(clock = REDIS_TIME): string {
  return `${clock}
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', 'GT', string.format('%.3f', now - tonumber(ARGV[2 * i - 1])), ARGV[2 * i])
end
return 0`;
}

interface GuardRedis extends Redis {
  gcraReserve(key: string, intervalMs: string, count: number, catchUpMs: number): Promise<string>;
  sendGuard(...args: (string | number)[]): Promise<string>;
  moveSends(...args: (string | number)[]): Promise<number>;
}

export interface RedisSendGuardOptions {
  keyPrefix: string;
  /** The local clock the scheduler runs on (Timers.now). */
  clock?: Clock;
}

/**
 * The send guard on Redis: the two scripts and their calls, with times converted between Redis' clock
 * and the local one through a stable offset estimate, not "reply time + wait" (a reply delayed by a busy
 * connection must not shift, and so bunch, the slots it carries).
 */
export class RedisSendGuard implements SendGuard {
  private readonly redis: GuardRedis;
  private readonly clock: Clock;
  private readonly offset = new ClockOffset();
  private readonly keys: RedisKeys;
  /** Moves waiting for the end of this event-loop turn (see move); undefined while no move went out in it. */
  private pendingMoves: { key: string; member: string; at: number }[] | undefined;

  constructor(
    redis: Redis,
    private readonly options: RedisSendGuardOptions,
  ) {
    if (!('sendGuard' in redis)) {
      redis.defineCommand('gcraReserve', { numberOfKeys: 1, lua: gcraLua() });
      redis.defineCommand('sendGuard', { lua: sendGuardLua() });
      redis.defineCommand('moveSends', { lua: moveSendLua() });
    }
    this.redis = redis as GuardRedis;
    this.clock = options.clock ?? systemTimers;
    this.keys = createRedisKeys(options.keyPrefix);
  }

  /** Samples Redis' clock a few times before the first reservation, so the first slots are placed right. */
  async calibrate(samples = 8): Promise<void> {
    for (let i = 0; i < samples; i++) {
      const [sec, micro] = await this.redis.time();
      const localNow = this.clock.now();
      this.offset.observe(Number(sec) * 1000 + Number(micro) / 1000 - localNow, localNow);
    }
  }

  async reserve(phoneNumberId: string, intervalMs: number, count: number): Promise<number> {
    const reply = await this.redis.gcraReserve(`${this.options.keyPrefix}wa:dispatch:rate:${phoneNumberId}`, intervalMs.toFixed(4), count, CATCH_UP_MS);
    const [first, redisNow] = reply.split('|').map(Number) as [number, number];
    const localNow = this.clock.now();
    return first - this.offset.observe(redisNow - localNow, localNow);
  }

  async admit(phoneNumberId: string, send: Parameters<SendGuard['admit']>[1]): Promise<GuardVerdict> {
    const key = this.windowKey(phoneNumberId);
    const { claim } = send;
    const reply = await this.redis.sendGuard(
      3,
      key,
      `${key}:last-admission`,
      claim.key,
      send.windowMs,
      send.cap,
      send.member,
      send.gapMs.toFixed(3),
      claim.value,
      claim.attempt,
      claim.ttlMs,
    );
    if (reply.startsWith('E')) return { kind: 'known', existing: parseLedgerEntry(reply.slice(1), claim.jobId) };
    if (reply.startsWith('A')) {
      // When Redis admitted it, on the local clock: a reply read late by a busy process makes a late write.
      const redisNow = Number(reply.slice(1));
      const localNow = this.clock.now();
      return { kind: 'admitted', at: Math.min(localNow, redisNow - this.offset.observe(redisNow - localNow, localNow)) };
    }
    return { kind: 'held', waitMs: Number(reply) };
  }

  /**
   * A move goes out at once; the moves that follow it within the same event-loop turn go out together at
   * the turn's end, in one script call (a busy process writes many requests late in one turn: one call each
   * cost a Redis command per send). A move lands at most a turn later, well within the window it corrects.
   */
  move(phoneNumberId: string, member: string, at: number): void {
    const move = { key: this.windowKey(phoneNumberId), member, at };
    if (this.pendingMoves) {
      this.pendingMoves.push(move);
      return;
    }
    this.pendingMoves = [];
    this.sendMoves([move]);
    setImmediate(() => {
      const moves = this.pendingMoves ?? [];
      this.pendingMoves = undefined;
      if (moves.length > 0) this.sendMoves(moves);
    });
  }

  private sendMoves(moves: readonly { key: string; member: string; at: number }[]): void {
    const now = this.clock.now();
    const args: (string | number)[] = [moves.length];
    for (const m of moves) args.push(m.key);
    for (const m of moves) args.push(Math.max(0, now - m.at).toFixed(3), m.member);
    void this.redis.moveSends(...args).catch(() => undefined);
  }

  private windowKey(phoneNumberId: string): string {
    return this.keys.throughputWindow(phoneNumberId);
  }
}
