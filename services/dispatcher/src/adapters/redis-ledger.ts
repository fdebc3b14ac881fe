import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import type { ClaimResult, LedgerClaim, LedgerEntry, SendLedger } from '../ports';

/**
 * Claim: the job is new, or its last state is a retry of an earlier attempt. Anything else is
 * returned to the caller to decide (a redelivery of a finished job, a crash mid-send, …).
 */
const CLAIM_LUA = `
local v = redis.call('GET', KEYS[1])
if v then
  local cur = cjson.decode(v)
  if cur.st == 'retry' and cur.a < tonumber(ARGV[2]) then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
    return false
  end
  return v
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false`;

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

/**
 * Short names for the fields of a 'done' entry's event. The event is ~60 % field names; a 'done'
 * entry is the ledger's bulk (kept LEDGER_TTL_MS per job), so it is stored as `{st, a, at, e}` with
 * these names, without `v` (always 1), `jobId` (the key names it), `attempt` when it equals `a`, and
 * `eventId` when it is the default `<jobId>:<attempt>`. Entries written as `{…, event}` still decode.
 */
const SHORT: Record<string, string> = {
  eventId: 'i',
  jobId: 'j',
  requestKey: 'k',
  campaignId: 'c',
  senderPhoneNumberId: 's',
  wabaId: 'w',
  recipientHash: 'r',
  recipientCountry: 'n',
  template: 't',
  category: 'g',
  lane: 'l',
  attempt: 'A',
  outcome: 'o',
  reason: 'x',
  httpStatus: 'h',
  errorCode: 'ec',
  errorClass: 'ex',
  wamid: 'm',
  latencyMs: 'ms',
  requestedAt: 'q',
  occurredAt: 'oc',
  metadata: 'md',
};
const LONG: Record<string, string> = Object.fromEntries(Object.entries(SHORT).map(([long, short]) => [short, long]));

function compactEvent(attempt: number, event: SentEventV1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) {
    if (value === undefined || name === 'v' || name === 'jobId') continue;
    if (name === 'attempt' && value === attempt) continue;
    if (name === 'eventId' && value === `${event.jobId}:${attempt}`) continue;
    out[SHORT[name] ?? name] = value;
  }
  return out;
}

/** A 'done' entry as stored. */
export function encodeDone(attempt: number, at: number, event: SentEventV1): string {
  return JSON.stringify({ st: 'done', a: attempt, at, e: compactEvent(attempt, event) });
}

/** A stored ledger value of job `jobId` (any state, either encoding of 'done') back to its entry. */
export function parseLedgerEntry(json: string, jobId: string | undefined): LedgerEntry {
  const raw = JSON.parse(json) as Record<string, unknown>;
  if (raw.st !== 'done' || raw.e === undefined) return raw as LedgerEntry;
  const attempt = raw.a as number;
  const event: Record<string, unknown> = { v: 1, jobId };
  for (const [name, value] of Object.entries(raw.e as Record<string, unknown>)) event[LONG[name] ?? name] = value;
  event.attempt ??= attempt;
  event.eventId ??= `${String(event.jobId)}:${attempt}`;
  return { st: 'done', a: attempt, at: raw.at as number, event: event as SentEventV1 };
}

interface LedgerRedis extends Redis {
  ledgerClaim(key: string, value: string, attempt: number, ttlMs: number): Promise<string | null>;
  ledgerRelease(key: string, owner: string, attempt: number, retryValue: string, ttlMs: number): Promise<number>;
}

export interface RedisLedgerOptions {
  keyPrefix: string;
  ttlMs: number;
  heartbeatMs?: number;
}

/**
 * The send ledger in Redis: one key per job id. Each process has an owner id with a heartbeat key,
 * so a claim left by a dead process is told apart from one a live replica is still working on.
 */
export class RedisLedger implements SendLedger {
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly redis: LedgerRedis;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;

  constructor(
    redis: Redis,
    private readonly options: RedisLedgerOptions,
  ) {
    this.redis = redis as LedgerRedis;
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    if (!('ledgerClaim' in redis)) {
      redis.defineCommand('ledgerClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
      redis.defineCommand('ledgerRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    }
  }

  private key(jobId: string): string {
    return `${this.options.keyPrefix}wa:dispatch:ledger:${jobId}`;
  }
  private ownerKey(owner: string): string {
    return `${this.options.keyPrefix}wa:dispatch:owner:${owner}`;
  }

  async start(): Promise<void> {
    const beat = () => this.redis.set(this.ownerKey(this.owner), '1', 'PX', this.heartbeatMs * 5);
    await beat();
    this.heartbeat = setInterval(() => void beat().catch(() => undefined), this.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.redis.del(this.ownerKey(this.owner)).catch(() => undefined);
  }

  claimRequest(jobId: string, attempt: number): LedgerClaim {
    const value = JSON.stringify({ st: 'claimed', a: attempt, owner: this.owner, at: Date.now() } satisfies LedgerEntry);
    return { key: this.key(jobId), value, attempt, ttlMs: this.options.ttlMs, jobId };
  }

  async claim(jobId: string, attempt: number): Promise<ClaimResult> {
    const value = JSON.stringify({ st: 'claimed', a: attempt, owner: this.owner, at: Date.now() } satisfies LedgerEntry);
    const existing = await this.redis.ledgerClaim(this.key(jobId), value, attempt, this.options.ttlMs);
    if (existing === null) return { claimed: true };
    return { claimed: false, existing: parseLedgerEntry(existing, jobId) };
  }

  async peek(jobId: string): Promise<LedgerEntry | undefined> {
    const v = await this.redis.get(this.key(jobId));
    return v ? parseLedgerEntry(v, jobId) : undefined;
  }

  async claimDone(jobId: string, attempt: number, event: SentEventV1): Promise<ClaimResult> {
    const value = encodeDone(attempt, Date.now(), event);
    const existing = await this.redis.ledgerClaim(this.key(jobId), value, attempt, this.options.ttlMs);
    if (existing === null) return { claimed: true };
    return { claimed: false, existing: parseLedgerEntry(existing, jobId) };
  }

  async recordDone(jobId: string, attempt: number, event: SentEventV1): Promise<void> {
    const value = encodeDone(attempt, Date.now(), event);
    await this.redis.set(this.key(jobId), value, 'PX', this.options.ttlMs);
  }

  async recordRetry(jobId: string, attempt: number): Promise<void> {
    const entry: LedgerEntry = { st: 'retry', a: attempt, at: Date.now() };
    await this.redis.set(this.key(jobId), JSON.stringify(entry), 'PX', this.options.ttlMs);
  }

  async release(jobId: string, attempt: number): Promise<void> {
    const previous = JSON.stringify({ st: 'retry', a: attempt - 1, at: Date.now() } satisfies LedgerEntry);
    await this.redis.ledgerRelease(this.key(jobId), this.owner, attempt, previous, this.options.ttlMs);
  }

  async ownerAlive(owner: string): Promise<boolean> {
    if (owner === this.owner) return true;
    return (await this.redis.exists(this.ownerKey(owner))) === 1;
  }
}
