import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelayMs } from '@wa/shared/backoff';
import { ConsumerRunner, type BatchContext } from '@wa/shared/kafka-consumer-runner';
import type { AnalyticsMetrics } from '../metrics';
import type { ClickHouseStore } from './clickhouse-store';
import { EventBuffer, type TopicRole } from './event-buffer';
import type { RowMapper } from '../domain/rows';
import type { LatencyTracker } from '../domain/latency-tracker';

export interface AnalyticsConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** topic name → what it carries */
  topics: ReadonlyMap<string, TopicRole>;
  store: ClickHouseStore;
  mapper: RowMapper;
  tracker: LatencyTracker;
  metrics: AnalyticsMetrics;
  logger: Logger;
  batchRows: number;
  flushIntervalMs: number;
  maxBytesPerPartition: number;
  /** Fetch min bytes / max wait (ANALYTICS_FETCH_*; default 1 byte / 1 s). */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  fromBeginning?: boolean;
}

/**
 * Consumes every analytics topic with one consumer group and writes to ClickHouse in batches:
 * flush when `batchRows` events are buffered or the oldest is `flushIntervalMs` old, then commit
 * the offsets of exactly what was flushed. A failed insert is retried with backoff while the
 * consumer waits (back-pressure), and nothing is committed until ClickHouse took the batch, so a
 * crash re-reads the batch, which the idempotent tables absorb.
 */
export class AnalyticsConsumer {
  private readonly consumer: ConsumerRunner;
  private readonly buffer: EventBuffer;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stopping = false;
  private gaveUp = false;
  private closed: Promise<void> | undefined;
  /** Events written and committed since start, for tests and the benchmark. */
  committedEvents = 0;

  constructor(private readonly options: AnalyticsConsumerOptions) {
    const o = options;
    this.buffer = new EventBuffer({ roles: o.topics, mapper: o.mapper, tracker: o.tracker, metrics: o.metrics });
    this.consumer = new ConsumerRunner({
      kafka: o.kafka,
      groupId: o.groupId,
      topics: [...o.topics.keys()],
      // The fetch wait bounds both idle latency and how long stop() waits for a fetch in flight.
      consumer: {
        maxBytesPerPartition: o.maxBytesPerPartition,
        maxBytes: Math.max(o.maxBytesPerPartition * 4, 10 * 1024 * 1024),
        minBytes: o.fetchMinBytes ?? 1,
        maxWaitTimeInMs: o.fetchMaxWaitMs ?? 1_000,
      },
      fromBeginning: o.fromBeginning ?? true,
      eachBatchAutoResolve: true,
      eachBatch: (payload, ctx) => this.onBatch(payload, ctx),
      logger: o.logger,
      metrics: o.metrics.consumer,
    });
  }

  /** False while the consumer is being replaced after kafkajs gave up on it. */
  get running(): boolean {
    return this.consumer.running;
  }

  async start(): Promise<void> {
    const o = this.options;
    await this.consumer.start();
    this.timer = setInterval(
      () => {
        if (this.buffer.size > 0 && this.buffer.ageMs >= o.flushIntervalMs) void this.flush();
      },
      Math.max(5, Math.floor(o.flushIntervalMs / 4)),
    );
    this.timer.unref();
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload, _ctx: BatchContext): Promise<void> {
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i++) {
      if ((i & 255) === 0) {
        // Yield now and then: the insert running in chdb needs this thread to start its next table
        // (and the commit), and would otherwise sit idle until a whole fetched batch is decoded.
        if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        // Checked every 256 records, not per record: kafkajs builds a string key for each isStale().
        if (!isRunning() || isStale()) break;
      }
      const m = messages[i]!;
      this.buffer.add({ topic: batch.topic, partition: batch.partition, offset: m.offset, value: m.value });
      if (this.buffer.size >= this.options.batchRows) {
        // One batch is written while the next one fills (decoding overlaps the insert); waiting
        // for the previous write here is the back-pressure.
        await this.flushing;
        void this.flush();
      }
    }
    await heartbeat();
  }

  /**
   * Hands what is buffered to the writer and resolves when it (and every earlier batch) is written
   * and committed. Writes are chained, so offsets are committed in order.
   */
  flush(): Promise<void> {
    if (this.buffer.size > 0) {
      const batch = this.buffer.take();
      this.flushing = this.flushing.then(() => this.write(batch));
    }
    return this.flushing;
  }

  private async write(batch: ReturnType<EventBuffer['take']>): Promise<void> {
    const { rows, offsets, events, token } = batch;
    const total = Object.values(rows).reduce((n, r) => n + (r?.length ?? 0), 0);
    const log = this.options.logger;
    for (let attempt = 0; ; attempt++) {
      const end = this.options.metrics.insertDuration.startTimer();
      try {
        await this.options.store.insertBatch(rows, token);
        end();
        break;
      } catch (err) {
        this.options.metrics.insertFailures.inc();
        if (this.stopping && attempt >= 2) {
          // Never commit past a batch that is not written: later offsets would skip it. The next
          // owner of these partitions re-reads from the last good commit.
          this.gaveUp = true;
          log.error({ err, events }, 'giving up on a batch during shutdown; it will be re-read');
          return;
        }
        const delay = backoffDelayMs(attempt, { baseMs: 100, maxMs: 5_000, jitter: 'equal' });
        log.warn({ err, attempt, delayMs: Math.round(delay) }, 'ClickHouse insert failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.options.metrics.insertBatchRows.observe(total);
    if (this.gaveUp) return;
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (err) {
      // The rows are in; after a rebalance the new owner re-reads them and the tables absorb it.
      log.warn({ err }, 'offset commit failed after insert; the batch may be re-read');
      return;
    }
    this.committedEvents += events;
  }

  /** Stop fetching, flush and commit what is buffered, disconnect. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping = true;
      clearInterval(this.timer);
      // Paused (still a group member, so commits work): flush and commit, then leave the group.
      // Records a batch in flight adds after this flush are simply re-read by the next owner.
      await this.consumer.stop(() => this.flush());
    })();
    return this.closed;
  }
}
