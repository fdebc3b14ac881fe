import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAnalyticsMetrics } from '../../src/metrics';

async function staleness(registry: Registry): Promise<number | undefined> {
  const m = await registry.getSingleMetric('wa_analytics_rollup_staleness_seconds')?.get();
  return m?.values[0]?.value;
}

describe('wa_analytics_rollup_staleness_seconds', () => {
  it('counts from the start of the last completed refresh, and from the service start before one completes', async () => {
    let now = 1_000;
    const registry = new Registry();
    const metrics = createAnalyticsMetrics(registry, { rollups: true, now: () => now });
    now = 6_000;
    expect(await staleness(registry)).toBe(5);
    metrics.rollupsRefreshed(8_000);
    now = 10_000;
    expect(await staleness(registry)).toBe(2);
    // A refresh that started earlier but finished later does not make the figures older.
    metrics.rollupsRefreshed(7_000);
    expect(await staleness(registry)).toBe(2);
  });

  it('is not exported by replicas that do not refresh roll-ups', () => {
    const registry = new Registry();
    createAnalyticsMetrics(registry, { rollups: false });
    expect(registry.getSingleMetric('wa_analytics_rollup_staleness_seconds')).toBeUndefined();
    expect(registry.getSingleMetric('wa_analytics_rollup_refresh_seconds')).toBeDefined();
  });
});
