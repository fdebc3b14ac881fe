/**
 * A number's recent inbound message rate, from counts per bucket of Meta's message timestamps. The webhook
 * normaliser counts (Redis hash `inboundRate(phoneNumberId)`, field = bucket index); the dispatchers read it to
 * leave room for inbound messages, which use the number's throughput too. Counting by Meta's timestamp, not by
 * when a webhook arrived, keeps the rate right while the webhook path runs seconds behind.
 */
export const INBOUND_RATE_BUCKET_MS = 5_000;
/** The rate is read over this long. */
export const INBOUND_RATE_HORIZON_MS = 30_000;
/**
 * While no newer counts arrive, the rate last seen holds this long: a stalled webhook path (a broker failover,
 * a normaliser behind) looks like silence, while people go on replying. The normaliser counts messages up to
 * this old; the hash expires after twice as long without one.
 */
export const INBOUND_RATE_HOLD_MS = 120_000;
/** The short view: a reply rate that is climbing (a broadcast's first minute) shows here first. */
const SHORT_HORIZON_MS = 10_000;

/** The bucket (hash field) of an inbound message sent at `sentAtMs`. */
export function inboundRateBucket(sentAtMs: number): number {
  return Math.floor(sentAtMs / INBOUND_RATE_BUCKET_MS);
}

export interface InboundRate {
  /** Inbound messages per second. */
  mps: number;
  /** Held from older counts: no newer ones arrived, so the dispatcher cannot see what people send now. */
  held: boolean;
}

/**
 * Inbound messages per second: the highest of the last 30 s and the last 10 s (whole buckets since then, plus
 * the current one), so a rising rate is seen within seconds, and — when the newest count is older than the
 * current and the previous bucket — of the 30 s and the 10 s that ended with it, held for up to 2 minutes
 * (see INBOUND_RATE_HOLD_MS).
 */
export function inboundRateFromBuckets(counts: Readonly<Record<string, string | number>>, nowMs: number): InboundRate {
  const current = inboundRateBucket(nowMs);
  const sinceStart = (nowMs % INBOUND_RATE_BUCKET_MS) / 1000;
  const longBuckets = INBOUND_RATE_HORIZON_MS / INBOUND_RATE_BUCKET_MS;
  const shortBuckets = SHORT_HORIZON_MS / INBOUND_RATE_BUCKET_MS;
  const holdBuckets = INBOUND_RATE_HOLD_MS / INBOUND_RATE_BUCKET_MS;
  // Counts by age in buckets (0 = current), and the age of the newest non-empty bucket.
  const byAge = new Array<number>(holdBuckets + 1).fill(0);
  let newest = Infinity;
  for (const [field, value] of Object.entries(counts)) {
    const rawAge = current - Number(field);
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(rawAge) || rawAge < -1 || rawAge > holdBuckets) continue;
    const age = Math.max(0, rawAge); // one bucket ahead counts as current: Meta's clock a little ahead of ours
    byAge[age] = (byAge[age] ?? 0) + n;
    newest = Math.min(newest, age);
  }
  const sum = (from: number, to: number) => byAge.slice(from, to + 1).reduce((a, n) => a + n, 0);
  const seconds = (buckets: number) => (buckets * INBOUND_RATE_BUCKET_MS) / 1000 + sinceStart;
  const rate = Math.max(sum(0, longBuckets) / seconds(longBuckets), sum(0, shortBuckets) / seconds(shortBuckets));
  if (newest <= 1 || newest === Infinity) return { mps: rate, held: false };
  const held = (buckets: number) => sum(newest, newest + buckets - 1) / ((buckets * INBOUND_RATE_BUCKET_MS) / 1000);
  return { mps: Math.max(rate, held(longBuckets), held(shortBuckets)), held: true };
}

/**
 * How many inbound messages one second may bring beyond the mean, at `mps` on average: three standard deviations of
 * a Poisson count (people reply independently), so about one second in a thousand brings more.
 */
export function inboundBurst(mps: number): number {
  return mps > 0 ? 3 * Math.sqrt(mps) : 0;
}
