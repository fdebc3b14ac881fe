import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisBuckets } from '@wa/shared/redis-buckets';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { systemClock, type ClaimResult, type Clock, type LedgerClaim, type LedgerEntry, type SendLedger } from '../ports';

/**
 * Where a job's state is (KEYS[1] its recent key, KEYS[2..] its bucket in each window a 3-day-old entry
 * can be in, newest first; ARGV[1] its field, ARGV[2] the index among the windows written to, ARGV[3]
 * that bucket's TTL), and how a stored value reads: JSON in the recent key (`{"st":…,"a":…}`, also
 * every entry written before the buckets), `d<attempt>` / `r<attempt>` in a bucket.
 */
const PRELUDE = `
local function find()
  local v = redis.call('GET', KEYS[1])
  if v then return v end
  for i = 2, #KEYS do
    v = redis.call('HGET', KEYS[i], ARGV[1])
    if v then return v end
  end
  return nil
end
local function state(v)
  if string.byte(v, 1) == 123 then
    local cur = cjson.decode(v)
    return cur.st, cur.a
  end
  return (string.byte(v, 1) == 100) and 'done' or 'retry', tonumber(string.sub(v, 2))
end
local function keep(code)
  local w = KEYS[1 + tonumber(ARGV[2])]
  for i = 2, #KEYS do
    if KEYS[i] ~= w then redis.call('HDEL', KEYS[i], ARGV[1]) end
  end
  redis.call('HSET', w, ARGV[1], code)
  redis.call('PEXPIRE', w, ARGV[3])
end
`;

/**
 * Claim (ARGV[4] attempt, ARGV[5] value for the recent key, ARGV[6] its TTL, ARGV[7] the bucket entry or
 * ''): the job is new, or its last state is a retry of an earlier attempt. Anything else is returned to
 * the caller to decide (a redelivery of a finished job, a crash mid-send, …).
 */
const CLAIM_LUA = `${PRELUDE}
local v = find()
if v then
  local st, a = state(v)
  if not (st == 'retry' and a < tonumber(ARGV[4])) then return v end
end
redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[6])
if ARGV[7] ~= '' then keep(ARGV[7]) end
return false`;

/** Record (ARGV[4] value for the recent key, ARGV[5] its TTL, ARGV[6] the bucket entry). */
const RECORD_LUA = `${PRELUDE}
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
keep(ARGV[6])
return 1`;

const PEEK_LUA = `${PRELUDE}
return find()`;

/** Release only our own claim of this attempt; an earlier attempt's retry state is restored. */
const RELEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local cur = cjson.decode(v)
if cur.st ~= 'claimed' or cur.owner ~= ARGV[1] or cur.a ~= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1`;

/** Shortens the TTL of announced jobs' recent keys (KEYS) to ARGV[1] ms. */
const ANNOUNCED_LUA = `
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 1`;

/** Field names of 'done' events stored by earlier versions (`{st, a, at, e}`): still read until they expire. */
const LONG: Record<string, string> = {
  i: 'eventId',
  j: 'jobId',
  k: 'requestKey',
  c: 'campaignId',
  s: 'senderPhoneNumberId',
  w: 'wabaId',
  r: 'recipientHash',
  n: 'recipientCountry',
  t: 'template',
  g: 'category',
  l: 'lane',
  A: 'attempt',
  o: 'outcome',
  x: 'reason',
  h: 'httpStatus',
  ec: 'errorCode',
  ex: 'errorClass',
  m: 'wamid',
  ms: 'latencyMs',
  q: 'requestedAt',
  oc: 'occurredAt',
  md: 'metadata',
};

/** A 'done' entry for the recent key, around the event's JSON as produced to Kafka (no second encoding). */
export function encodeDone(attempt: number, at: number, eventJson: string): string {
  return `{"st":"done","a":${attempt},"at":${at},"event":${eventJson}}`;
}

/** A stored ledger value of job `jobId` (recent key or bucket, any state, any earlier encoding) back to its entry. */
export function parseLedgerEntry(stored: string, jobId: string | undefined): LedgerEntry {
  if (stored[0] !== '{') return { st: stored[0] === 'd' ? 'done' : 'retry', a: Number(stored.slice(1)) };
  const raw = JSON.parse(stored) as Record<string, unknown>;
  if (raw.st !== 'done' || raw.e === undefined) return raw as LedgerEntry;
  const attempt = raw.a as number;
  const event: Record<string, unknown> = { v: 1, jobId };
  for (const [name, value] of Object.entries(raw.e as Record<string, unknown>)) event[LONG[name] ?? name] = value;
  event.attempt ??= attempt;
  event.eventId ??= `${String(event.jobId)}:${attempt}`;
  return { st: 'done', a: attempt, at: raw.at as number, event: event as SentEventV1 };
}

type Args = (string | Buffer | number)[];
interface LedgerRedis extends Redis {
  ledgerClaim(...args: Args): Promise<string | null>;
  ledgerRecord(...args: Args): Promise<number>;
  ledgerPeek(...args: Args): Promise<string | null>;
  ledgerRelease(key: string, owner: string, attempt: number, retryValue: string, ttlMs: number): Promise<number>;
  ledgerAnnounced(...args: Args): Promise<number>;
}

/** Default bucket bits: ~64 jobs per bucket at 10 M messages a day. */
export const LEDGER_BUCKET_BITS = 17;

export interface RedisLedgerOptions {
  keyPrefix: string;
  /** How long a job is remembered after its last write (LEDGER_TTL_MS). */
  ttlMs: number;
  /** How long a job's recent key stays after its outcome is announced (see `recentMs`). */
  recentMs?: number;
  bucketBits?: number;
  heartbeatMs?: number;
  clock?: Clock;
}

/**
 * The send ledger in Redis. A job's state for the whole `ttlMs` is a 2-3 byte entry (`d<attempt>`, `r<attempt>`)
 * under an 8-byte digest in per-day hash buckets (shared/src/redis-buckets.ts). Its recent key (one
 * string key per job, the layout before the buckets) holds what is only needed for a while: a claim
 * (kept `ttlMs`: a crash leaves it in doubt), a 'done' event until Kafka acknowledged it (then kept
 * `recentMs`), a retry for `recentMs`. The send guard's atomic admission checks only the recent key, so
 * a job must be admitted within `recentMs / 2` of its last peek (the handler peeks again otherwise).
 * Each process has an owner id with a heartbeat key, so a claim left by a dead process is told apart
 * from one a live replica is still working on.
 */
export class RedisLedger implements SendLedger {
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  readonly recentMs: number;
  readonly buckets: RedisBuckets;
  private readonly redis: LedgerRedis;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  private readonly clock: Clock;
  private announcedKeys: string[] = [];

  constructor(
    redis: Redis,
    private readonly options: RedisLedgerOptions,
  ) {
    this.redis = redis as LedgerRedis;
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.recentMs = Math.min(options.recentMs ?? 3_600_000, options.ttlMs);
    this.clock = options.clock ?? systemClock;
    this.buckets = new RedisBuckets({
      prefix: `${options.keyPrefix}wa:dispatch:ledger-b:`,
      horizonMs: options.ttlMs,
      windowMs: 24 * 3_600_000,
      bucketBits: options.bucketBits ?? LEDGER_BUCKET_BITS,
    });
    if (!('ledgerClaim' in redis)) {
      redis.defineCommand('ledgerClaim', { lua: CLAIM_LUA });
      redis.defineCommand('ledgerRecord', { lua: RECORD_LUA });
      redis.defineCommand('ledgerPeek', { lua: PEEK_LUA });
      redis.defineCommand('ledgerRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
      redis.defineCommand('ledgerAnnounced', { lua: ANNOUNCED_LUA });
    }
  }

  private key(jobId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:ledger:${jobId}`;
  }
  private ownerKey(owner: string): string {
    return `${this.options.keyPrefix}wa:dispatch:owner:${owner}`;
  }

  /** numkeys, the keys and ARGV[1..3] of the scripts' PRELUDE. */
  private where(jobId: string): Args {
    const now = this.clock.now();
    const { bucket, field } = this.buckets.slot(jobId);
    const layout = this.windowsAt(now);
    const out: Args = [layout.windows.length + 1, this.key(jobId)];
    for (const w of layout.windows) out.push(this.buckets.key(w, bucket));
    // A string field: a Buffer argument makes ioredis encode the whole command through Buffers (~2× the CPU).
    out.push(field.toString('base64url'), layout.writeIndex, Math.ceil(layout.writeAt - now));
    return out;
  }

  /** The read windows and the write window's index and bucket expiry, recomputed once a minute. */
  private windowsAt(now: number): { windows: number[]; writeIndex: number; writeAt: number } {
    const minute = Math.floor(now / 60_000);
    if (this.windowCache?.minute !== minute) {
      const at = minute * 60_000;
      // Every window a read within this minute may need (newest first): the ranges at its start and end.
      const newest = this.buckets.readWindows(at + 60_000)[0]!;
      const oldest = this.buckets.readWindows(at).at(-1)!;
      const windows: number[] = [];
      for (let w = newest; w >= oldest; w -= 1) windows.push(w);
      const write = this.buckets.writeWindow(at);
      this.windowCache = { minute, windows, writeIndex: windows.indexOf(write.window) + 1, writeAt: at + write.ttlMs };
    }
    return this.windowCache;
  }
  private windowCache: { minute: number; windows: number[]; writeIndex: number; writeAt: number } | undefined;

  async start(): Promise<void> {
    const beat = () => this.redis.set(this.ownerKey(this.owner), '1', 'PX', this.heartbeatMs * 5);
    await beat();
    this.heartbeat = setInterval(() => void beat().catch(() => undefined), this.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.flushAnnounced();
    await this.redis.del(this.ownerKey(this.owner)).catch(() => undefined);
  }

  private claimedValue(attempt: number): string {
    return JSON.stringify({ st: 'claimed', a: attempt, owner: this.owner, at: this.clock.now() } satisfies LedgerEntry);
  }

  claimRequest(jobId: string, attempt: number): LedgerClaim {
    return { key: this.key(jobId), value: this.claimedValue(attempt), attempt, ttlMs: this.options.ttlMs, jobId };
  }

  async claim(jobId: string, attempt: number): Promise<ClaimResult> {
    const existing = await this.redis.ledgerClaim(...this.where(jobId), attempt, this.claimedValue(attempt), this.options.ttlMs, '');
    return existing === null ? { claimed: true } : { claimed: false, existing: parseLedgerEntry(existing, jobId) };
  }

  async peek(jobId: string): Promise<LedgerEntry | undefined> {
    const v = await this.redis.ledgerPeek(...this.where(jobId));
    return v ? parseLedgerEntry(v, jobId) : undefined;
  }

  async claimDone(jobId: string, attempt: number, eventJson: string): Promise<ClaimResult> {
    const value = encodeDone(attempt, this.clock.now(), eventJson);
    const existing = await this.redis.ledgerClaim(...this.where(jobId), attempt, value, this.options.ttlMs, `d${attempt}`);
    return existing === null ? { claimed: true } : { claimed: false, existing: parseLedgerEntry(existing, jobId) };
  }

  async recordDone(jobId: string, attempt: number, eventJson: string): Promise<void> {
    await this.redis.ledgerRecord(...this.where(jobId), encodeDone(attempt, this.clock.now(), eventJson), this.options.ttlMs, `d${attempt}`);
  }

  async recordRetry(jobId: string, attempt: number): Promise<void> {
    const value = JSON.stringify({ st: 'retry', a: attempt, at: this.clock.now() } satisfies LedgerEntry);
    await this.redis.ledgerRecord(...this.where(jobId), value, this.recentMs, `r${attempt}`);
  }

  async release(jobId: string, attempt: number): Promise<void> {
    const previous = JSON.stringify({ st: 'retry', a: attempt - 1, at: this.clock.now() } satisfies LedgerEntry);
    await this.redis.ledgerRelease(this.key(jobId), this.owner, attempt, previous, this.recentMs);
  }

  /** Batched per event-loop turn: one script call shortens every announced job's recent key. Best effort. */
  announced(jobId: string): void {
    if (this.announcedKeys.push(this.key(jobId)) === 1) setImmediate(() => this.flushAnnounced());
  }

  private flushAnnounced(): void {
    const keys = this.announcedKeys;
    if (keys.length === 0) return;
    this.announcedKeys = [];
    void this.redis.ledgerAnnounced(keys.length, ...keys, this.recentMs).catch(() => undefined);
  }

  async ownerAlive(owner: string): Promise<boolean> {
    if (owner === this.owner) return true;
    return (await this.redis.exists(this.ownerKey(owner))) === 1;
  }
}
