import { hash } from 'node:crypto';

/**
 * Compact Redis sets of ids that must be remembered for a horizon (dedupe markers, idempotency keys).
 *
 * One key per id costs ~120 bytes (dict entry, key string, value object, expiry entry). Here ids are
 * hashed into buckets: a Redis hash per (time window, hash prefix) whose fields are 8 bytes of the id's
 * SHA-1. Hashes of up to `hash-max-listpack-entries` (default 128) fields of ≤ 64 bytes are stored as
 * one listpack, ~12 bytes per field. Ids are written into the current window's bucket; the bucket
 * expires `horizon + slack` after its window ends, so every field lives at least the horizon (TTL on
 * the bucket, never per field). A lookup checks every window a still-remembered id can be in.
 *
 * A false positive needs two live ids in one bucket with the same 64-bit field: ~n·m/2^65 for n live
 * ids and m per bucket.
 * `bucketBits` should give each bucket ~64 fields at the expected volume: bits = log2(ids per window / 64).
 */
export interface BucketLayout {
  /** Key prefix, e.g. `wa:webhook-seen:`. */
  prefix: string;
  /** How long an id must be remembered. */
  horizonMs: number;
  /** Width of one time window (default: a seventh of the horizon, at least a minute). */
  windowMs?: number;
  /** log2 of the number of buckets per window. */
  bucketBits: number;
  /** Allowed clock difference between writers (default 5 minutes). */
  slackMs?: number;
}

export interface BucketSlot {
  /** Bucket index within a window. */
  bucket: string;
  /** 8 bytes of the id's hash. */
  field: Buffer;
}

export class RedisBuckets {
  readonly windowMs: number;
  readonly slackMs: number;
  private readonly shift: number;

  constructor(readonly layout: BucketLayout) {
    if (!Number.isInteger(layout.bucketBits) || layout.bucketBits < 0 || layout.bucketBits > 24)
      throw new Error(`bucketBits must be an integer 0..24, got ${layout.bucketBits}`);
    this.windowMs = layout.windowMs ?? Math.max(60_000, Math.ceil(layout.horizonMs / 7));
    this.slackMs = layout.slackMs ?? 300_000;
    this.shift = 32 - layout.bucketBits;
  }

  slot(id: string): BucketSlot {
    // The one-shot hash: half the CPU of a Hash object for ids this short, on every read and write.
    const digest = hash('sha1', id, 'buffer');
    const bucket = this.layout.bucketBits === 0 ? 0 : digest.readUInt32BE(0) >>> this.shift;
    return { bucket: bucket.toString(36), field: digest.subarray(4, 12) };
  }

  /** 8 bytes of a value's hash (e.g. an owner id compared inside a script). */
  static digest(value: string): Buffer {
    return hash('sha1', value, 'buffer').subarray(0, 8);
  }

  key(window: number, bucket: string): string {
    return `${this.layout.prefix}${window.toString(36)}:${bucket}`;
  }

  /** The window a write at `nowMs` goes to, and how long (ms from now) its bucket must live. */
  writeWindow(nowMs: number): { window: number; ttlMs: number } {
    const window = Math.floor(nowMs / this.windowMs);
    return { window, ttlMs: (window + 1) * this.windowMs + this.layout.horizonMs + this.slackMs - nowMs };
  }

  /** Windows that may hold an id written within the horizon (newest first), clock slack included. */
  readWindows(nowMs: number): number[] {
    const newest = Math.floor((nowMs + this.slackMs) / this.windowMs);
    const oldest = Math.floor((nowMs - this.layout.horizonMs - this.slackMs) / this.windowMs);
    const out: number[] = [];
    for (let w = newest; w >= oldest; w -= 1) out.push(w);
    return out;
  }

  /** Mean time a field stays in Redis, for writes spread evenly over time (for sizing). */
  get meanLifetimeMs(): number {
    return this.windowMs / 2 + this.layout.horizonMs + this.slackMs;
  }

  /** Longest time a field can stay in Redis: its window, the horizon and the slack (for sizing). */
  get maxLifetimeMs(): number {
    return this.windowMs + this.layout.horizonMs + this.slackMs;
  }
}
