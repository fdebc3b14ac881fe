import { createConsumerMetrics } from '@wa/shared/kafka-consumer-metrics';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The ingest service's Prometheus metrics; label values are bounded sets. */
export function createIngestMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'wa_ingest_requests_total',
      help: 'notification requests by outcome (accepted, duplicate, held, dead_lettered)',
      labelNames: ['outcome', 'source'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'wa_ingest_jobs_total',
      help: 'per-recipient dispatch jobs by outcome (emitted, held, buffered, dead_lettered) and lane',
      labelNames: ['outcome', 'lane'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'wa_ingest_duplicates_total',
      help: 'duplicates dropped: request (same idempotency key) or recipient (listed twice in one request)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    coalesced: new Counter({
      name: 'wa_ingest_coalesced_total',
      help: 'notifications merged into digests (each merged notification counts once)',
      registers: [registry],
    }),
    expanded: new Counter({
      name: 'wa_ingest_expanded_recipients_total',
      help: 'audience lines read while expanding broadcasts',
      registers: [registry],
    }),
    dlq: new Counter({
      name: 'wa_ingest_dlq_total',
      help: 'records dead-lettered to wa.notifications.dlq by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    /** wa_ingest_consumer_lag, _crashes_total and _replacements_total (the request consumer). */
    consumer: createConsumerMetrics(registry, 'wa_ingest'),
    audienceProgress: new Gauge({
      name: 'wa_ingest_audience_progress_ratio',
      help: 'fraction of the audience file read by the broadcast expanding most recently',
      registers: [registry],
    }),
    audiencesActive: new Gauge({
      name: 'wa_ingest_audiences_expanding',
      help: 'broadcast audiences being expanded right now',
      registers: [registry],
    }),
    workerFailures: new Counter({
      name: 'wa_ingest_worker_failures_total',
      help: 'failed polls of the background workers (scheduler, expander); each is retried with backoff',
      labelNames: ['worker'] as const,
      registers: [registry],
    }),
    held: new Gauge({
      name: 'wa_ingest_held_items',
      help: 'held requests, job groups and coalescing buffers waiting for their time',
      registers: [registry],
    }),
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
