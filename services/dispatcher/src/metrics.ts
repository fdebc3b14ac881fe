import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createConsumerMetrics } from '@wa/shared/kafka-consumer-metrics';
import { LATENCY_BUCKETS_SECONDS } from '@wa/shared/metrics';

/** Running counts kept by the send scheduler; the matching counters follow them when scraped. */
export interface SchedulerCounts {
  heldSlots(): number;
  lateWrites(): number;
  lateAnswers(): number;
  connectionWaits(): number;
}

/** A counter's collect hook that adds what a process-lifetime count grew by since the last scrape. */
function following(read: (() => number) | undefined) {
  if (read === undefined) return {};
  let last = 0;
  return {
    collect(this: Counter) {
      const now = read();
      if (now > last) this.inc(now - last);
      last = now;
    },
  };
}

/** The dispatcher's Prometheus metrics; labels are bounded (sender = our own phone number ids). */
export function createDispatcherMetrics(registry: Registry, counts: Partial<SchedulerCounts> = {}) {
  const registers = [registry];
  return {
    consumer: createConsumerMetrics(registry, 'wa_dispatch'),
    campaignMedia: new Counter({
      name: 'wa_dispatch_campaign_media_total',
      help: 'campaign media ({link, upload: true}) by result: uploaded, refreshed (re-uploaded before expiry), reused (id from the store), failed (sent by link)',
      labelNames: ['result'],
      registers,
    }),
    sends: new Counter({
      name: 'wa_dispatch_sends_total',
      help: 'Job outcomes by sender, outcome and error class',
      labelNames: ['sender', 'outcome', 'error_class'],
      registers,
    }),
    errors: new Counter({ name: 'wa_dispatch_errors_total', help: 'Graph API errors by Meta error code', labelNames: ['sender', 'code'], registers }),
    sendDuration: new Histogram({
      name: 'wa_dispatch_send_duration_seconds',
      help: 'Graph API send call duration',
      labelNames: ['sender'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    rateLimitWait: new Histogram({
      name: 'wa_dispatch_rate_limit_wait_seconds',
      help: 'Time a job waited for a send slot of its number',
      labelNames: ['sender', 'lane'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    currentRate: new Gauge({
      name: 'wa_dispatch_current_rate',
      help: 'Rate the number is paced at: the target, not what it achieves (messages/s)',
      labelNames: ['sender'],
      registers,
    }),
    achievedRate: new Gauge({
      name: 'wa_dispatch_achieved_rate',
      help: 'Sends Meta accepted per second from this process over the last 5 s (messages/s; sum over replicas)',
      labelNames: ['sender'],
      registers,
    }),
    inboundRate: new Gauge({
      name: 'wa_dispatch_inbound_rate',
      help: 'Inbound messages per second people send to the number, which its pace leaves room for (Meta counts them in its throughput)',
      labelNames: ['sender'],
      registers,
    }),
    rateLimit: new Gauge({ name: 'wa_dispatch_rate_limit', help: "The number's throughput limit (messages/s)", labelNames: ['sender'], registers }),
    qualityLow: new Gauge({
      name: 'wa_sender_quality_low',
      help: "1 while Meta rates the number's quality low (MARKETING_HOLD_QUALITY, RED by default): its marketing is held (alert)",
      labelNames: ['sender'],
      registers,
    }),
    throttles: new Counter({
      name: 'wa_dispatch_throttles_total',
      help: 'Throttle answers that slowed a number down',
      labelNames: ['sender', 'code'],
      registers,
    }),
    messagingLimit: new Gauge({
      name: 'wa_dispatch_messaging_limit',
      help: 'Portfolio messaging limit (unique recipients / 24 h; -1 = unlimited)',
      labelNames: ['portfolio'],
      registers,
    }),
    messagingBudgetUsed: new Gauge({
      name: 'wa_dispatch_messaging_budget_used',
      help: 'Unique business-initiated recipients in the rolling 24 h window',
      labelNames: ['portfolio'],
      registers,
    }),
    retries: new Counter({ name: 'wa_dispatch_retries_total', help: 'Retries scheduled', labelNames: ['sender', 'error_class'], registers }),
    deferred: new Counter({ name: 'wa_dispatch_deferred_total', help: 'Jobs held for later without an attempt', labelNames: ['reason'], registers }),
    ledgerConflicts: new Counter({
      name: 'wa_dispatch_ledger_conflicts_total',
      help: 'Jobs found already claimed or finished in the send ledger',
      labelNames: ['state'],
      registers,
    }),
    unknownOutcomes: new Counter({ name: 'wa_dispatch_unknown_outcomes_total', help: 'Jobs whose send outcome cannot be known (alert)', registers }),
    accountStandingHold: new Gauge({
      name: 'wa_account_standing_hold',
      help: "1 while Meta's account_update holds the business account's sends: hold=banned (all), business_initiated or customer_initiated (restricted; alert)",
      labelNames: ['waba', 'hold'],
      registers,
    }),
    accountPaused: new Gauge({
      name: 'wa_dispatch_account_paused',
      help: '1 while a business account is paused after an auth error (alert)',
      labelNames: ['waba'],
      registers,
    }),
    heldSlots: new Counter({
      name: 'wa_dispatch_guard_held_slots_total',
      help: 'Due send slots the sliding-window guard held back because sends had bunched (stalls)',
      registers,
      ...following(counts.heldSlots),
    }),
    lateWrites: new Counter({
      name: 'wa_dispatch_late_writes_total',
      help: 'Sends whose request reached its socket more than 3 ms after their admission (undici writes on a reused connection in the next check phase): counted from the write',
      registers,
      ...following(counts.lateWrites),
    }),
    lateAnswers: new Counter({
      name: 'wa_dispatch_late_answers_total',
      help: 'Answers of cold numbers (first answers per process) later than 3 ms: their send counts until the answer',
      registers,
      ...following(counts.lateAnswers),
    }),
    connectionsInUse: new Gauge({
      name: 'wa_dispatch_http_connections_in_use',
      help: 'Graph API pool connections held by admitted sends awaiting their answer (of HTTP_POOL_CONNECTIONS)',
      registers,
    }),
    connectionWaits: new Counter({
      name: 'wa_dispatch_connection_waits_total',
      help: 'Due sends that waited for a free Graph API connection because all were busy (slow answers)',
      registers,
      ...following(counts.connectionWaits),
    }),
    inFlight: new Gauge({ name: 'wa_dispatch_in_flight', help: 'Jobs in their checks (holding a concurrency permit)', registers }),
    lookahead: new Gauge({
      name: 'wa_dispatch_lookahead_jobs',
      help: 'Jobs taken from Kafka and not finished, per consumer (lane or retry); at CONSUMER_LOOKAHEAD_JOBS the consumer stops fetching',
      labelNames: ['consumer'],
      registers,
    }),
    roomWaiting: new Gauge({
      name: 'wa_dispatch_room_waiting_jobs',
      help: "Jobs waiting for their number's send room (the number's backlog in this process)",
      labelNames: ['sender'],
      registers,
    }),
  };
}
export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
