import { Counter, Gauge, type Registry } from 'prom-client';

/** A service's consumer metrics, the same names under its own prefix (`wa_ingest` → `wa_ingest_consumer_lag`, ...). */
export function createConsumerMetrics(registry: Registry, prefix: string) {
  const registers = [registry];
  return {
    lag: new Gauge({
      name: `${prefix}_consumer_lag`,
      help: 'Records behind the high watermark after the last batch, per group and topic partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
    }),
    crashes: new Counter({
      name: `${prefix}_consumer_crashes_total`,
      help: 'Consumer crashes reported by kafkajs, by whether kafkajs restarts the consumer itself',
      labelNames: ['group', 'restart'] as const,
      registers,
    }),
    replacements: new Counter({
      name: `${prefix}_consumer_replacements_total`,
      help: 'Consumers replaced by a new one: after a crash kafkajs gave up on (crash) or after going silent (stalled)',
      labelNames: ['group', 'reason'] as const,
      registers,
    }),
  };
}
export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;
