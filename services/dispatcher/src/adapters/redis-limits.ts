import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Lane } from '@wa/shared/contracts/common';
import { LANES_BY_PRIORITY } from '@wa/shared/contracts/common';
import { createAdaptiveRate, handedOn, nextHandOnAt, pacedRoom, queuedSendsDue, sendGuardCap, slotIntervalMs, targetRate, type AdaptiveState, type HandOnTimelines } from '../domain/pacing';
import type { Admission, Clock, LedgerClaim, LedgerEntry, MessagingLimitResult, MessagingLimits, Permits, RateLimiter, SendPermit } from '../ports';

/** While cold, a response later than this after the admission moves its send to the response time. */
const LATE_ANSWER_MS = 3;
/**
 * A request written to its socket later than this after the admission is counted from its write. A number
 * tolerates only the gap between the guard's cap and its limit: 10-12 ms of compressed arrivals at 250 and
 * 1,000 msg/s with 2 % headroom, which a 20 ms threshold let through at start-up (docs/dispatcher.md).
 */
const LATE_WRITE_MS = 3;
/**
 * A number's path is cold in this process until both: this many answers, and COLD_MS since its first answer.
 * Count alone ended it after 0.1 s at 1,000 msg/s and 0.4 s at 250, while connections were still being opened
 * and both ends still compiling (bench:dispatch's 250 msg/s number met its 130429s 1.0–1.6 s in).
 */
const COLD_ANSWERS = 100;
const COLD_MS = 2_000;
/** …by at most this much: cold-start arrival delays reached 50–160 ms in bench:dispatch; the rest of a slow answer is the server's work. */
const COLD_MOVE_MAX_MS = 100;
/**
 * The guard keeps sends at least this share of a slot apart: a bunch (from a stall) never forms, so
 * it cannot echo as a gap one window later, and held sends still drain faster than the slots come.
 * At 0.8 (until 2026-12-02) a few ms of jitter in the guard's round trips held an 80 msg/s number's
 * sends about twice each in bench:dispatch A (123 holds for 62 admissions a second).
 */
const MIN_GAP_FRACTION = 0.5;
/**
 * The minimum gap applies only to slots at least this long (numbers up to ~83 msg/s): held sends drain one
 * timer tick at a time, and timers run late under load. At 10 ms it also covered ~97 msg/s pacing, where
 * a 1-2 ms late timer against an 8.2 ms gap held sends and cost 5-15 % (the 100 msg/s tier reached 84-94 %;
 * without the gap it paces at 97/s, the guard window still capping bunches).
 */
const MIN_GAP_SLOT_MS = 12;
/** A held number's queue is also handed on by a timer, at most this often (or once a slot, for slower numbers). */
const DRAIN_TICK_MS = 4;
/** How far in the past a late reservation may still take slots (catch-up after a stall). */
const CATCH_UP_MS = 250;

/**
 * GCRA slot reservation on Redis' own clock (TIME), so every replica shares one timeline per
 * number whatever their local clocks say. Returns the wait until the first reserved slot, in ms.
 * Slots up to ARGV[3] ms in the past may still be taken: a reservation that comes late (a stalled
 * process) catches up instead of losing that capacity; the send guard keeps the catch-up spaced.
 * A number idle for longer (or new) starts now, without a burst of credit.
 */
const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = tat
if tat < now - tonumber(ARGV[3]) then first = now end
local nxt = first + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', 60000)
return string.format('%.3f|%.3f', first, now)`;

/**
 * The send guard: Meta's own rule, on Redis' clock and shared by every replica — at most ARGV[2]
 * sends of this number in any sliding window of ARGV[1] ms (KEYS[1]), counted when a send is released —
 * and no two admissions closer than ARGV[4] ms (most of a slot; KEYS[2] holds the last one), so slots
 * that a stall bunched leave spaced. The gap counts from the admission, not from where a send was moved
 * to in the window (its write or, while cold, its answer): from the answer, each cold send of an
 * 80 msg/s number held the next until ~10 ms after its answer, and the number took ~3 s to reach its rate.
 * With KEYS[3], the job's ledger claim is taken in the same step (ARGV[5..7]: value, attempt, ttl).
 * Returns '0' (admitted, recorded, claimed), the ms until one more would be admitted, or 'E' and
 * the ledger entry that already exists (not admitted).
 */
const SEND_GUARD_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
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
return '0'`;

/**
 * Unique business-initiated recipients per portfolio in a rolling window: a ZSET waId → last send.
 * A recipient already in the window is refreshed and does not count again.
 * Returns 1 = known recipient, 2 = new recipient admitted, 0 = refused (budget spent).
 */
const MLIMIT_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  return {1, 0, 0}
end
local used = redis.call('ZCARD', KEYS[1])
if limit >= 0 and used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, used, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {2, used + 1, 0}`;

interface LimitsRedis extends Redis {
  gcraReserve(key: string, intervalMs: string, count: number, creditMs: number): Promise<string>;
  sendGuard(...args: (string | number)[]): Promise<string>;
  messagingLimitAdmit(key: string, now: number, windowMs: number, limit: number, waId: string): Promise<[number, number, number]>;
}

function defineScripts(redis: Redis): LimitsRedis {
  if (!('gcraReserve' in redis)) {
    redis.defineCommand('gcraReserve', { numberOfKeys: 1, lua: GCRA_LUA });
    redis.defineCommand('sendGuard', { lua: SEND_GUARD_LUA });
    redis.defineCommand('messagingLimitAdmit', { numberOfKeys: 1, lua: MLIMIT_LUA });
  }
  return redis as LimitsRedis;
}

function localClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A number's held chain (see RedisRateLimiter.admit); it is on while it has an active member. */
interface Gate extends HandOnTimelines {
  /** Sends queued behind the chain. */
  queue: (() => void)[];
  /** Members asking the guard (handed on, not yet admitted). */
  active: number;
  /** Members sleeping on a full-window hold. */
  sleeping: number;
  drainTimer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  lane: Lane;
  resolve: (waitedMs: number) => void;
  reject: (err: unknown) => void;
  enqueuedAt: number;
}

export interface RedisRateLimiterOptions {
  keyPrefix: string;
  headroomFraction: number;
  decreaseFactor: number;
  coolDownMs: number;
  /** Slots are reserved at most this far ahead, so a newly arrived auth job overtakes queued marketing. */
  reserveAheadMs?: number;
  /** Meta's throughput window (a sliding second); the send guard counts sends in it. */
  windowMs?: number;
  limitOf: (phoneNumberId: string) => number;
  clock: Clock;
  /**
   * The Graph API pool's connections (HTTP_POOL_CONNECTIONS). An admitted send holds one until it is
   * answered: a request admitted while every connection is busy would wait inside the HTTP client and
   * leave later, bunched with the others that waited (a stalled server frees many at once), after the
   * guard counted it at admission. Absent: no bound.
   */
  connections?: Permits;
}

/**
 * Per-number pacing shared by all replicas, in two layers:
 * 1. GCRA slots on one Redis timeline per number spread sends evenly at the target rate (limit ×
 *    (1 − headroom) × adaptive factor). Inside a process, waiters queue per number by lane and each
 *    small batch of reserved slots goes to the highest-priority lane first (auth → utility →
 *    marketing); slots are reserved only `reserveAheadMs` ahead so priority holds within ~that time.
 * 2. When a slot is due, the send guard (Meta's sliding-window rule on Redis, shared by every
 *    replica, with a cap just under the limit) must admit it. Evenly spaced slots always pass; slots
 *    that an event-loop stall, a slow Redis reply or another replica's stall bunched together are
 *    held until the window has room, instead of arriving at Meta as a burst. A lowered limit also
 *    takes effect through the guard at once: the sends of the last second count against it.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: LimitsRedis;
  private readonly adaptive;
  private readonly adaptiveState = new Map<string, AdaptiveState>();
  private readonly queues = new Map<string, Record<Lane, Waiter[]>>();
  private readonly pumping = new Set<string>();
  private readonly reserveAheadMs: number;
  private readonly windowMs: number;
  /** Last limit seen per number and when it changed (throttles of sends released before that are not this limit's). */
  private readonly limitSeen = new Map<string, { limitMps: number; changedAt: number }>();
  private readonly memberPrefix = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private memberSeq = 0;
  private closed = false;
  /** Estimate of (Redis clock − local clock): the largest sample seen recently is the one with the least reply delay. */
  private offsetCur = Number.NEGATIVE_INFINITY;
  private offsetPrev = Number.NEGATIVE_INFINITY;
  private offsetRotatedAt = 0;

  /** Due slots the send guard held back because the sliding window was full (stalls bunching sends). */
  heldSlots = 0;
  /** Due sends that waited for a free Graph API connection (every connection busy: slow answers). */
  connectionWaits = 0;
  /** Sends whose request reached its socket more than LATE_WRITE_MS after the admission (counted from the write). */
  lateWrites = 0;

  constructor(
    redis: Redis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    this.redis = defineScripts(redis);
    this.adaptive = createAdaptiveRate({ decreaseFactor: options.decreaseFactor, coolDownMs: options.coolDownMs });
    this.reserveAheadMs = options.reserveAheadMs ?? 100;
    this.windowMs = options.windowMs ?? 1_000;
  }

  rateOf(phoneNumberId: string) {
    const limitMps = this.options.limitOf(phoneNumberId);
    const now = this.options.clock.now();
    const seen = this.limitSeen.get(phoneNumberId);
    if (!seen || seen.limitMps !== limitMps) this.limitSeen.set(phoneNumberId, { limitMps, changedAt: seen ? now : 0 });
    const state = this.adaptiveState.get(phoneNumberId);
    const factor = state ? this.adaptive.factorAt(state, now) : 1;
    return { targetMps: targetRate(limitMps, this.options.headroomFraction, factor), limitMps, factor };
  }

  /**
   * A throttle answer: slow the number down for a cool-down. An answer to a send released before
   * the number's limit last changed says nothing about the current limit (a downgrade Meta applied
   * before its webhook reached us) and does not slow it down.
   */
  onThrottle(phoneNumberId: string, sentAtMs?: number): void {
    this.rateOf(phoneNumberId);
    const changedAt = this.limitSeen.get(phoneNumberId)?.changedAt ?? 0;
    if (sentAtMs !== undefined && sentAtMs < changedAt) return;
    const state = this.adaptiveState.get(phoneNumberId) ?? this.adaptive.fresh();
    this.adaptiveState.set(phoneNumberId, this.adaptive.onThrottle(state, this.options.clock.now()));
  }

  acquire(phoneNumberId: string, lane: Lane): Promise<number> {
    if (this.closed) return Promise.reject(new Error('rate limiter closed'));
    let q = this.queues.get(phoneNumberId);
    if (!q) {
      q = { auth: [], utility: [], marketing: [] };
      this.queues.set(phoneNumberId, q);
    }
    const enqueuedAt = this.options.clock.now();
    const queue = q[lane];
    const promise = new Promise<number>((resolve, reject) => {
      queue.push({ lane, resolve, reject, enqueuedAt });
    });
    void this.pump(phoneNumberId);
    return promise;
  }

  private waiting(q: Record<Lane, Waiter[]>): number {
    return q.auth.length + q.utility.length + q.marketing.length;
  }

  private take(q: Record<Lane, Waiter[]>, n: number): Waiter[] {
    const out: Waiter[] = [];
    for (const lane of LANES_BY_PRIORITY) {
      while (out.length < n && q[lane].length > 0) out.push(q[lane].shift()!);
    }
    return out;
  }

  private async pump(phoneNumberId: string): Promise<void> {
    if (this.pumping.has(phoneNumberId)) return;
    this.pumping.add(phoneNumberId);
    const q = this.queues.get(phoneNumberId)!;
    const key = `${this.options.keyPrefix}wa:dispatch:rate:${phoneNumberId}`;
    try {
      while (!this.closed && this.waiting(q) > 0) {
        const { targetMps } = this.rateOf(phoneNumberId);
        const interval = slotIntervalMs(targetMps);
        const n = Math.min(this.waiting(q), Math.max(1, Math.floor(this.reserveAheadMs / interval)));
        let firstWaitMs: number;
        try {
          const reply = await this.redis.gcraReserve(key, interval.toFixed(4), n, CATCH_UP_MS);
          const [first, redisNow] = reply.split('|').map(Number) as [number, number];
          // Slots are converted to local time through a stable clock offset, not "reply time + wait":
          // a reply delayed by a busy pipeline must not shift (and so bunch) the slots it carries.
          const localNow = localClockMs();
          const offset = this.observeOffset(redisNow - localNow, localNow);
          firstWaitMs = first - offset - localNow;
        } catch (err) {
          for (const w of this.take(q, this.waiting(q))) w.reject(err);
          return;
        }
        const batch = this.take(q, n);
        batch.forEach((w, i) => {
          const wait = firstWaitMs + i * interval;
          const fire = () => w.resolve(this.options.clock.now() - w.enqueuedAt);
          // Never before the slot: an early send is what makes a sliding second overflow.
          if (wait <= 0) fire();
          else setTimeout(fire, Math.ceil(wait));
        });
        // Do not reserve further ahead than reserveAheadMs: later arrivals of a higher lane go first.
        const batchEndMs = firstWaitMs + n * interval;
        if (batchEndMs > this.reserveAheadMs) await new Promise((r) => setTimeout(r, batchEndMs - this.reserveAheadMs));
      }
    } finally {
      this.pumping.delete(phoneNumberId);
    }
  }

  /**
   * The last step before a send leaves: resolves when both the shared send guard (Redis, all
   * replicas) and this process' own log of sends admit one more send of this number in the sliding
   * window, taking the job's ledger claim in the same Redis step. The caller must send synchronously
   * after it resolves, so nothing of ours runs between the decision and the request's write, and
   * must call `answered()` when the response is back. A job the ledger already knows is not admitted.
   */
  async admit(phoneNumberId: string, claim: LedgerClaim): Promise<Admission> {
    let gate = this.gates.get(phoneNumberId);
    if (!gate) this.gates.set(phoneNumberId, (gate = { queue: [], active: 0, handedOnAt: 0, burstAt: 0, sleeping: 0, drainTimer: undefined }));
    // While a send of this number is held, later ones queue here in order instead of each polling Redis.
    let head = false;
    if (gate.active > 0) {
      await new Promise<void>((r) => gate.queue.push(r));
      head = true;
    }
    /**
     * A send of the held chain leaves (admitted, or not to be sent): it hands on the queued sends that
     * are due at the paced rate since the chain last handed on (see handOn), and the chain's drain timer
     * goes on handing on at that rate. The chain ends when nothing is queued or active.
     */
    const leaveChain = (admittedAt?: number, intervalMs = 0, room = 1) => {
      if (!head) return;
      head = false;
      gate.active--;
      this.handOn(gate, admittedAt ?? localClockMs(), admittedAt === undefined ? 0 : intervalMs, room);
      this.drainLater(phoneNumberId, gate);
    };
    const key = `${this.options.keyPrefix}wa:dispatch:sent-window:${phoneNumberId}`;
    const member = `${this.memberPrefix}:${this.memberSeq++}`;
    const t0 = performance.now();
    // A connection is taken only by the send heading its number's queue, right before the guard is asked,
    // and given back while the guard holds it: queued and held sends never tie up connections.
    const connections = this.options.connections;
    let connection = false;
    const giveBack = () => {
      if (!connection) return;
      connection = false;
      connections!.release();
    };
    try {
      for (;;) {
        if (this.closed) throw new Error('rate limiter closed');
        const { targetMps, limitMps } = this.rateOf(phoneNumberId);
        const cap = sendGuardCap(targetMps, limitMps);
        // Own sends first (no I/O): a reply that arrived late must not release a bunch.
        const log = this.recentSends(phoneNumberId, localClockMs());
        let waitMs = log.length >= cap ? log[log.length - cap]! + this.windowMs - localClockMs() + 0.05 : 0;
        /** Held by the minimum gap only (a few ms), not by a full window. */
        let gapHold = false;
        if (!(waitMs > 0)) {
          if (connections && !connection) {
            connection = connections.tryAcquire();
            if (!connection) {
              this.connectionWaits++;
              await connections.acquire();
              connection = true;
              continue; // time passed: ask this process' own window again
            }
          }
          const issuedAt = localClockMs();
          const interval = slotIntervalMs(targetMps);
          // Below timer resolution a minimum gap would only make held sends poll; the window cap still holds.
          const gap = interval >= MIN_GAP_SLOT_MS ? (interval * MIN_GAP_FRACTION).toFixed(3) : '0';
          const reply = await this.redis.sendGuard(3, key, `${key}:last-admission`, claim.key, this.windowMs, cap, member, gap, claim.value, claim.attempt, claim.ttlMs);
          if (reply.startsWith('E')) {
            giveBack();
            leaveChain();
            return { admitted: false, existing: JSON.parse(reply.slice(1)) as LedgerEntry };
          }
          waitMs = Number(reply);
          gapHold = Number(gap) > 0 && waitMs <= Number(gap);
          if (!(waitMs > 0)) {
            const at = localClockMs();
            const sent = this.recentSends(phoneNumberId, at);
            sent.push(at);
            if (head) this.heldSlots++;
            leaveChain(at, interval, pacedRoom(targetMps, this.windowMs, sent.length));
            return { admitted: true, permit: this.permit(phoneNumberId, key, member, at, issuedAt, performance.now() - t0, giveBack) };
          }
          giveBack();
        }
        if (!head) {
          if (gate.active > 0) {
            // A held chain formed meanwhile: queue behind it (the send handing this one on counts it active).
            await new Promise<void>((r) => gate.queue.push(r));
            head = true;
            continue;
          }
          gate.active = 1;
          gate.handedOnAt = gate.burstAt = localClockMs();
          head = true;
        }
        // While a member of the chain is held by a full window, the drain timer hands on nothing: the queue
        // would only poll. A minimum-gap hold ends within a slot; pausing for it, a gapped number sent one
        // message per guard round trip again (100-120 ms at a dispatcher's start: 6-8 msg/s of 80 for 3 s).
        const sleeper = gapHold ? 0 : 1;
        gate.sleeping += sleeper;
        try {
          await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(waitMs))));
        } finally {
          gate.sleeping -= sleeper;
        }
      }
    } catch (err) {
      giveBack();
      leaveChain();
      throw err;
    }
  }

  /** Per number: its held chain, if any (see Gate). */
  private readonly gates = new Map<string, Gate>();

  /**
   * Hands on the queued sends of a held chain that are due at the paced rate (queuedSendsDue), and at
   * least one when no member is active (the chain must not stall). Each still asks its own window and the guard.
   */
  private handOn(gate: Gate, at: number, intervalMs: number, room: number): void {
    let due = intervalMs > 0 ? queuedSendsDue(gate, at, intervalMs, room) : 0;
    if (gate.active === 0) due = Math.max(due, 1);
    for (let i = 0; i < due && gate.queue.length > 0; i++) {
      gate.active++;
      handedOn(gate, intervalMs);
      gate.queue.shift()!();
    }
  }

  /**
   * Drains a held chain's queue at the paced rate by timer, not only when a member is admitted: handed on
   * by admissions alone, a chain moved HAND_ON_CATCH_UP_MS of slots per guard round trip, so once the
   * round trip outgrew it (20-30 ms on a busy event loop) the number fell below its rate for as long as its
   * backlog lasted, and a minimum-gap number (one at a time) sent one message per round trip
   * (bench:dispatch A, 2026-12-02: 0.82-0.92 of 1,000 and 250 msg/s, 0.67-0.82 of 80, every send through
   * the chain). Paused while a member sleeps on a full-window hold (its admission hands on again).
   */
  private drainLater(phoneNumberId: string, gate: Gate): void {
    if (gate.drainTimer !== undefined || gate.queue.length === 0 || gate.sleeping > 0 || this.closed) return;
    const { targetMps } = this.rateOf(phoneNumberId);
    const interval = slotIntervalMs(targetMps);
    gate.drainTimer = setTimeout(
      () => {
        gate.drainTimer = undefined;
        if (gate.sleeping > 0 || this.closed) return;
        const at = localClockMs();
        const room = pacedRoom(targetMps, this.windowMs, this.recentSends(phoneNumberId, at).length);
        this.handOn(gate, at, interval, room);
        this.drainLater(phoneNumberId, gate);
      },
      Math.max(1, Math.ceil(nextHandOnAt(gate, interval, DRAIN_TICK_MS) - localClockMs())),
    );
  }

  /**
   * Meta counts a request when it arrives, which we cannot see: no earlier than its write, no later
   * than its response. While a number is cold in this process (its first answers: new connections,
   * JIT on both ends, requests can reach the server late and bunched), each send counts in both
   * windows until its response came back (at most COLD_MOVE_MAX_MS after the decision),
   * conservatively; afterwards from its write, since a warm path adds little delay before arrival
   * and most of an answer's latency is the server's work.
   */
  private permit(phoneNumberId: string, key: string, member: string, sentAt: number, issuedAt: number, heldMs: number, releaseConnection: () => void): SendPermit {
    // Where this send sits in both windows now: its admission, later its write, while cold its answer.
    let countedAt = sentAt;
    const moveTo = (at: number) => {
      if (!(at > countedAt)) return;
      this.moveSend(phoneNumberId, key, member, countedAt, at);
      countedAt = at;
    };
    return {
      heldMs,
      written: () => {
        const at = localClockMs();
        if (at - countedAt <= LATE_WRITE_MS) return;
        this.lateWrites++;
        moveTo(at);
      },
      answered: () => {
        releaseConnection();
        const answeredAt = localClockMs();
        let seen = this.answers.get(phoneNumberId);
        if (!seen) this.answers.set(phoneNumberId, (seen = { n: 0, firstAt: answeredAt }));
        seen.n++;
        if (seen.n > COLD_ANSWERS && answeredAt - seen.firstAt > COLD_MS) return;
        if (answeredAt - issuedAt <= LATE_ANSWER_MS) return;
        this.lateAnswers++;
        moveTo(Math.min(answeredAt, issuedAt + COLD_MOVE_MAX_MS));
      },
    };
  }

  /** Moves one send of this process from `from` to `at` in its own log and in the shared window. */
  private moveSend(phoneNumberId: string, key: string, member: string, from: number, at: number): void {
    const log = this.sendLog.get(phoneNumberId);
    if (log) {
      const i = log.lastIndexOf(from);
      if (i >= 0) log.splice(i, 1);
      let j = log.length;
      while (j > 0 && log[j - 1]! > at) j--;
      log.splice(j, 0, at);
    }
    const offset = this.clockOffset();
    void this.redis.zadd(key, 'XX', 'GT', (at + (Number.isFinite(offset) ? offset : 0)).toFixed(3), member).catch(() => undefined);
  }

  private readonly answers = new Map<string, { n: number; firstAt: number }>();

  /** Sends of cold numbers counted until their response (it came back later than LATE_ANSWER_MS). */
  lateAnswers = 0;

  private readonly sendLog = new Map<string, number[]>();

  /** This process' send times for a number within the window (oldest first). */
  private recentSends(phoneNumberId: string, at: number): number[] {
    let log = this.sendLog.get(phoneNumberId);
    if (!log) this.sendLog.set(phoneNumberId, (log = []));
    let drop = 0;
    while (drop < log.length && log[drop]! <= at - this.windowMs) drop++;
    if (drop > 0) log.splice(0, drop);
    return log;
  }

  /** Samples Redis' clock a few times before the first reservation, so the first slots are placed right. */
  async calibrate(samples = 8): Promise<void> {
    for (let i = 0; i < samples; i++) {
      const [sec, micro] = await this.redis.time();
      const localNow = localClockMs();
      this.observeOffset(Number(sec) * 1000 + Number(micro) / 1000 - localNow, localNow);
    }
  }

  private observeOffset(sample: number, localNow: number): number {
    if (localNow - this.offsetRotatedAt > 5_000) {
      this.offsetPrev = this.offsetCur;
      this.offsetCur = Number.NEGATIVE_INFINITY;
      this.offsetRotatedAt = localNow;
    }
    if (sample > this.offsetCur) this.offsetCur = sample;
    return this.clockOffset();
  }

  /** The current estimate of (Redis clock − local clock); -Infinity before any sample. */
  private clockOffset(): number {
    return Math.max(this.offsetCur, this.offsetPrev);
  }

  close(): void {
    this.closed = true;
    for (const gate of this.gates.values()) clearTimeout(gate.drainTimer);
    for (const q of this.queues.values()) for (const w of this.take(q, this.waiting(q))) w.reject(new Error('rate limiter closed'));
  }
}

export interface RedisMessagingLimitsOptions {
  keyPrefix: string;
  windowMs: number;
  pairIntervalMs: number;
  pairBurst: number;
  clock: Clock;
}

/** The portfolio messaging limit (ZSET) and the per-recipient pair limit (rate-limiter-flexible). */
export class RedisMessagingLimits implements MessagingLimits {
  private readonly redis: LimitsRedis;
  private readonly pair: RateLimiterRedis | undefined;

  constructor(
    redis: Redis,
    private readonly options: RedisMessagingLimitsOptions,
  ) {
    this.redis = defineScripts(redis);
    this.pair =
      options.pairIntervalMs > 0
        ? new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `${options.keyPrefix}wa:dispatch:pair`,
            points: options.pairBurst,
            // A fixed window of N per interval never exceeds Meta's "burst, then one per interval" budget.
            duration: Math.max(1, Math.ceil(options.pairIntervalMs / 1000)),
          })
        : undefined;
  }

  private key(portfolioId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:mlimit:${portfolioId}`;
  }

  async admit(portfolioId: string, waId: string, limit: number | null): Promise<MessagingLimitResult> {
    const [verdict, used, retryAfterMs] = await this.redis.messagingLimitAdmit(this.key(portfolioId), this.options.clock.now(), this.options.windowMs, limit ?? -1, waId);
    if (verdict === 0) return { allowed: false, used, limit: limit ?? -1, retryAfterMs: Math.max(1_000, retryAfterMs) };
    return { allowed: true, newRecipient: verdict === 2 };
  }

  async forget(portfolioId: string, waId: string): Promise<void> {
    await this.redis.zrem(this.key(portfolioId), waId);
  }

  async used(portfolioId: string): Promise<number> {
    const key = this.key(portfolioId);
    await this.redis.zremrangebyscore(key, '-inf', this.options.clock.now() - this.options.windowMs);
    return this.redis.zcard(key);
  }

  async countNew(portfolioId: string, waIds: readonly string[]): Promise<number> {
    if (waIds.length === 0) return 0;
    const lo = this.options.clock.now() - this.options.windowMs;
    let fresh = 0;
    for (let i = 0; i < waIds.length; i += 1_000) {
      const chunk = waIds.slice(i, i + 1_000);
      const scores = await this.redis.zmscore(this.key(portfolioId), ...chunk);
      for (const s of scores) if (s === null || Number(s) <= lo) fresh++;
    }
    return fresh;
  }

  async pairAllowed(phoneNumberId: string, waId: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    if (!this.pair) return { allowed: true, retryAfterMs: 0 };
    try {
      await this.pair.consume(`${phoneNumberId}:${waId}`);
      return { allowed: true, retryAfterMs: 0 };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: err.msBeforeNext };
      throw err;
    }
  }
}
