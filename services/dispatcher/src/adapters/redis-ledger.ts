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
    return { key: this.key(jobId), value, attempt, ttlMs: this.options.ttlMs };
  }

  async claim(jobId: string, attempt: number): Promise<ClaimResult> {
    const value = JSON.stringify({ st: 'claimed', a: attempt, owner: this.owner, at: Date.now() } satisfies LedgerEntry);
    const existing = await this.redis.ledgerClaim(this.key(jobId), value, attempt, this.options.ttlMs);
    if (existing === null) return { claimed: true };
    return { claimed: false, existing: JSON.parse(existing) as LedgerEntry };
  }

  async peek(jobId: string): Promise<LedgerEntry | undefined> {
    const v = await this.redis.get(this.key(jobId));
    return v ? (JSON.parse(v) as LedgerEntry) : undefined;
  }

  async claimDone(jobId: string, attempt: number, event: SentEventV1): Promise<ClaimResult> {
    const value = JSON.stringify({ st: 'done', a: attempt, at: Date.now(), event } satisfies LedgerEntry);
    const existing = await this.redis.ledgerClaim(this.key(jobId), value, attempt, this.options.ttlMs);
    if (existing === null) return { claimed: true };
    return { claimed: false, existing: JSON.parse(existing) as LedgerEntry };
  }

  async recordDone(jobId: string, attempt: number, event: SentEventV1, eventJson?: string): Promise<void> {
    // Same bytes as JSON.stringify({ st, a, at, event }), without encoding the event a second time.
    const value = eventJson !== undefined ? `{"st":"done","a":${JSON.stringify(attempt)},"at":${Date.now()},"event":${eventJson}}` : JSON.stringify({ st: 'done', a: attempt, at: Date.now(), event } satisfies LedgerEntry);
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
