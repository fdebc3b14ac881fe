/**
 * The throughput to leave free for a number's inbound messages, from its per-second inbound counts
 * (the current, still partial second first): the busiest recent second plus a quarter, rounded up,
 * so a rise between two readings does not push the number over its limit.
 */
export function inboundReserve(countsPerSecond: readonly number[]): number {
  const peak = Math.max(0, ...countsPerSecond.filter((n) => Number.isFinite(n)));
  return peak === 0 ? 0 : Math.ceil(peak * 1.25);
}
