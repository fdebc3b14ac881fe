import { createConsumerMetrics } from '@wa/shared/kafka-consumer-metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '@wa/shared/metrics';

/** The webhook service's Prometheus metrics; labels are bounded sets only. */
export function createWebhookMetrics(registry: Registry, sources: { queuedRecords?: () => number } = {}) {
  const registers = [registry];
  return {
    ackDuration: new Histogram({
      name: 'wa_webhook_ack_duration_seconds',
      help: 'time from receiving a webhook POST to answering it, by HTTP status code',
      labelNames: ['code'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    requests: new Counter({ name: 'wa_webhook_requests_total', help: 'webhook POSTs answered, by HTTP status code', labelNames: ['code'], registers }),
    signatureFailures: new Counter({
      name: 'wa_webhook_signature_failures_total',
      help: 'POSTs refused with 401 because X-Hub-Signature-256 was missing, malformed or matched no secret',
      labelNames: ['reason'],
      registers,
    }),
    secretMatches: new Counter({
      name: 'wa_webhook_secret_matches_total',
      help: 'verified POSTs by the id of the app secret that matched (watch it during a rotation)',
      labelNames: ['secret_id'],
      registers,
    }),
    payloadBytes: new Histogram({
      name: 'wa_webhook_payload_bytes',
      help: 'size of verified webhook bodies',
      buckets: [256, 512, 1_024, 2_048, 4_096, 8_192, 16_384, 65_536, 262_144, 1_048_576],
      registers,
    }),
    /** wa_webhook_consumer_lag, _crashes_total and _replacements_total (the normaliser's consumer). */
    consumer: createConsumerMetrics(registry, 'wa_webhook'),
    markRead: new Counter({
      name: 'wa_webhook_mark_read_total',
      help: 'inbound messages marked as read at Meta (MARK_INBOUND_READ), by result: marked, duplicate, refused, failed, dropped (queue full), too_old, no_token',
      labelNames: ['result'],
      registers,
    }),
    nonJson: new Counter({ name: 'wa_webhook_non_json_total', help: 'verified POSTs whose body is not JSON (stored raw, flagged isJson=false)', registers }),
    produceDuration: new Histogram({
      name: 'wa_webhook_produce_duration_seconds',
      help: 'time of one batched producer.send to wa.webhooks.raw until acks=-1, by outcome',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    produceBatchSize: new Histogram({
      name: 'wa_webhook_produce_batch_records',
      help: 'raw records per producer.send (group commit across concurrent requests)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000],
      registers,
    }),
    // Read at scrape time rather than set on every response (the acknowledgement path stays lean).
    produceQueue: new Gauge({
      name: 'wa_webhook_produce_queue_records',
      help: 'raw records waiting for a send slot',
      registers,
      collect() {
        if (sources.queuedRecords !== undefined) this.set(sources.queuedRecords());
      },
    }),
    events: new Counter({
      name: 'wa_webhook_events_total',
      help: 'normalised events forwarded, by type (status|inbound|account) and status (message status, inbound message type or account event kind)',
      labelNames: ['type', 'status'],
      registers,
    }),
    dedupeHits: new Counter({
      name: 'wa_webhook_dedupe_hits_total',
      help: 'normalised events dropped because Meta delivered them before',
      labelNames: ['type'],
      registers,
    }),
    deadLetters: new Counter({ name: 'wa_webhook_dead_letters_total', help: 'normaliser DLQ records, by reason', labelNames: ['reason'], registers }),
    stateChanges: new Counter({
      name: 'wa_webhook_state_changes_total',
      help: 'Redis state changes applied for the dispatcher, by kind',
      labelNames: ['kind'],
      registers,
    }),
    inboundThroughput: new Counter({
      name: 'wa_webhook_inbound_throughput_total',
      help: "inbound messages put in their number's throughput window (counted) or left out as older than Meta's window when read (stale)",
      labelNames: ['result'],
      registers,
    }),
    stateSkipped: new Counter({
      name: 'wa_webhook_state_skipped_total',
      help: 'state changes that could not be applied (e.g. quality update for an unknown number), by kind',
      labelNames: ['kind'],
      registers,
    }),
    normaliserBatchDuration: new Histogram({
      name: 'wa_webhook_normaliser_batch_duration_seconds',
      help: 'time to normalise, forward, update state and commit one consumed batch',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
  };
}
export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
