import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisBuckets } from '../src/redis-buckets';

const DAY = 24 * 3_600_000;

describe('RedisBuckets', () => {
  const set = new RedisBuckets({ prefix: 'p:', horizonMs: 7 * DAY, bucketBits: 10 });

  it('uses day windows for a 7-day horizon', () => {
    expect(set.windowMs).toBe(DAY);
    expect(set.maxLifetimeMs).toBe(8 * DAY + 300_000);
  });

  it('a write at any time is found by every read within the horizon, and its bucket outlives the horizon', () => {
    const start = Date.UTC(2026, 0, 1);
    for (let t = start; t < start + 3 * DAY; t += 3_700_000 + 13) {
      const { window, ttlMs } = set.writeWindow(t);
      expect(ttlMs).toBeGreaterThanOrEqual(7 * DAY);
      expect(ttlMs).toBeLessThanOrEqual(set.maxLifetimeMs);
      // Readers with clocks up to the slack behind or ahead, anywhere in the horizon.
      for (const later of [0, 1, DAY / 2, 6 * DAY, 7 * DAY]) {
        for (const skew of [-300_000, 0, 300_000]) expect(set.readWindows(t + later + skew)).toContain(window);
      }
    }
  });

  it('reads at most nine windows, newest first', () => {
    const windows = set.readWindows(Date.UTC(2026, 0, 1, 12));
    expect(windows.length).toBeLessThanOrEqual(9);
    expect([...windows].sort((a, b) => b - a)).toEqual(windows);
  });

  it('slots are stable 8-byte fields in bucketBits buckets', () => {
    const a = set.slot('wamid.X:delivered');
    expect(a).toEqual(set.slot('wamid.X:delivered'));
    expect(a.field).toHaveLength(8);
    expect(a.field.equals(set.slot('wamid.X:read').field)).toBe(false);
    const buckets = new Set(Array.from({ length: 5000 }, (_, i) => set.slot(`id-${i}`).bucket));
    expect(buckets.size).toBeGreaterThan(900);
    expect([...buckets].every((b) => parseInt(b, 36) < 1024)).toBe(true);
  });

  it('places an id where every earlier version placed it: SHA-1, bucket from bytes 0-3, field bytes 4-11', () => {
    // Entries written before an upgrade must be found after it (ledger, webhook dedupe, idempotency).
    for (let i = 0; i < 2_000; i++) {
      const id = `j_${i.toString(36)}:${i % 7}`;
      const digest = createHash('sha1').update(id).digest();
      expect(set.slot(id)).toEqual({ bucket: (digest.readUInt32BE(0) >>> 22).toString(36), field: digest.subarray(4, 12) });
      expect(RedisBuckets.digest(id)).toEqual(digest.subarray(0, 8));
    }
  });

  it('refuses bucket bits outside 0..24', () => {
    expect(() => new RedisBuckets({ prefix: 'p:', horizonMs: DAY, bucketBits: 25 })).toThrow(/bucketBits/);
  });
});
