/**
 * When the next roll-up refresh may start. A refresh recomputes every dirty day from the base tables, so
 * its cost grows with the day's volume (seconds at a million messages a day); refreshing every
 * `intervalMs` regardless would let it occupy ClickHouse without pause on a busy day. The next start is
 * at least `intervalMs` after the last one started, and the refresher is busy at most `maxBusyFraction`
 * of the time: after a refresh of `lastDurationMs` it rests at least lastDurationMs × (1 / fraction − 1).
 * The figures then lag by more than the interval, which `wa_analytics_rollup_staleness_seconds` shows.
 */
export function rollupRestMs(intervalMs: number, lastDurationMs: number, maxBusyFraction: number): number {
  const duration = Math.max(0, lastDurationMs);
  const untilInterval = intervalMs - duration;
  const forBusyShare = maxBusyFraction >= 1 ? 0 : duration * (1 / maxBusyFraction - 1);
  return Math.max(0, Math.ceil(Math.max(untilInterval, forBusyShare)));
}
