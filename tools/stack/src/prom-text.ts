/**
 * Quantiles of a Prometheus histogram read from a `/metrics` text exposition, interpolated
 * linearly inside the bucket like PromQL's histogram_quantile (summed over all label sets).
 */
export function histogramQuantile(metricsText: string, name: string, q: number): number | null {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(`^${name}_bucket\\{(.*)\\}\\s+([0-9.eE+-]+)$`);
  for (const line of metricsText.split('\n')) {
    const match = pattern.exec(line.trim());
    if (!match) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(match[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return previousBound;
      const inBucket = count - previousCount;
      return inBucket === 0 ? bound : previousBound + ((bound - previousBound) * (rank - previousCount)) / inBucket;
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

/** Sum of a counter over all label sets matching `labelFilter` (e.g. `code="130429"`). */
export function counterSum(metricsText: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (match && match[1] === name) sum += Number(match[3]);
  }
  return sum;
}
