import { createConsumerMetrics } from '@wa/shared/kafka-consumer-metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The analytics service's Prometheus metrics, registered on the process registry. `rollups`: this replica
 * refreshes the roll-ups (ANALYTICS_ROLLUPS); only then is their staleness exported.
 */
export function createAnalyticsMetrics(registry: Registry, options: { rollups?: boolean; now?: () => number } = {}) {
  const registers = [registry];
  const now = options.now ?? Date.now;
  /** Start of the last completed roll-up refresh (the figures include every batch flushed before it); until one completes, the service's start. */
  let rollupsAsOfMs = now();
  return {
    rollupRefresh: new Histogram({
      name: 'wa_analytics_rollup_refresh_seconds',
      help: 'Duration of one roll-up refresh (every dirty day recomputed); grows with the volume of the days it recomputes',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    rollupStaleness: new Gauge({
      name: 'wa_analytics_rollup_staleness_seconds',
      help: 'Age of the roll-ups finance views, the API and the dashboard read: time since the last completed refresh started (until one completes, since the service started); only in the replica that refreshes them',
      registers: options.rollups === false ? [] : registers,
      collect() {
        this.set(Math.max(0, now() - rollupsAsOfMs) / 1000);
      },
    }),
    /** A refresh that started at `startedAtMs` completed. */
    rollupsRefreshed(startedAtMs: number): void {
      rollupsAsOfMs = Math.max(rollupsAsOfMs, startedAtMs);
    },
    events: new Counter({
      name: 'wa_analytics_events_total',
      help: 'Records consumed, by topic and result (ok, invalid)',
      labelNames: ['topic', 'result'],
      registers,
    }),
    insertBatchRows: new Histogram({
      name: 'wa_analytics_insert_batch_rows',
      help: 'Rows per flushed batch (all tables)',
      buckets: [1, 10, 100, 500, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000],
      registers,
    }),
    insertDuration: new Histogram({
      name: 'wa_analytics_insert_duration_seconds',
      help: 'Time to write one flushed batch into ClickHouse',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    insertFailures: new Counter({ name: 'wa_analytics_insert_failures_total', help: 'Failed batch inserts (retried)', registers }),
    /** wa_analytics_consumer_lag, _crashes_total and _replacements_total. */
    consumer: createConsumerMetrics(registry, 'wa_analytics'),
    deliveryRate: new Gauge({
      name: 'wa_delivery_rate',
      help: 'Delivered / (delivered + failed) of messages sent in the window',
      labelNames: ['window'],
      registers,
    }),
    spendUsd: new Gauge({
      name: 'wa_spend_usd',
      help: 'Spend in USD by category and country over all recorded history, from the de-duplicated charges table (a gauge recomputed from ClickHouse, not a counter: use delta(), not rate())',
      labelNames: ['category', 'country'],
      registers,
    }),
    requestToDelivered: new Histogram({
      name: 'wa_request_to_delivered_seconds',
      help: 'Time from the notification request to the first delivered (or read) status',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3_600],
      registers,
    }),
    unpriced: new Counter({
      name: 'wa_analytics_unpriced_charges_total',
      help: 'Billable units the rate card has no rate for (recorded at zero)',
      labelNames: ['pricing_model', 'category'],
      registers,
    }),
  };
}
export type AnalyticsMetrics = ReturnType<typeof createAnalyticsMetrics>;
