import { collectDefaultMetrics, Registry } from 'prom-client';

/** One prom-client registry per process, with Node's default metrics and the service label. */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ svc: service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'wa_process_' });
  return registry;
}

/** Histogram buckets in seconds for sub-second request handling (acks, sends, produces). */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
