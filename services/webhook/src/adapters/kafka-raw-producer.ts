import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { systemClock, type Clock } from '@wa/shared/clock';
import { AppError } from '@wa/shared/errors';
import { kafkaError } from '@wa/shared/kafka';

export interface BatchingProducerOptions {
  producer: Producer;
  topic: string;
  /** Most records per producer.send. */
  maxBatch: number;
  /**
   * Most bytes (values and keys) per producer.send: below the raw topic's max.message.bytes, so one large
   * record never makes the broker reject a whole batch of others. A batch always takes at least one record.
   */
  maxBatchBytes: number;
  /** Concurrent producer.send calls; more than one keeps the broker busy while a batch is in flight. */
  maxInFlight: number;
  /**
   * Longest a record waits for more to join its batch before a send (Kafka's linger.ms): a send goes out
   * once its oldest record waited this long or the batch is full. 0 sends as soon as a slot is free.
   */
  lingerMs: number;
  compression?: CompressionTypes;
  /** A request waits at most this long for its acknowledgement; a record still queued by then is withdrawn. */
  timeoutMs: number;
  /** Records allowed to wait for a send slot; beyond it requests fail at once (Kafka is not keeping up). */
  maxQueued: number;
  /** Observes each send: records in it and seconds until the broker acknowledged (or failed). */
  onSend?: (records: number, seconds: number, ok: boolean) => void;
  /** Measures how long records have waited (linger); injected by tests. */
  clock?: Clock;
  /**
   * Partitions of the topic, when known: each send then puts all its records in one partition, the next
   * send in the next (one record batch per produce call instead of one per partition); unknown → by key.
   */
  partitions?: () => number | undefined;
  /**
   * Turns a batch's records into the one record sent for them all (the raw topic's format holds several
   * deliveries): kafkajs' encoding costs far more per record than per byte. Absent: each record is sent as it is.
   */
  combine?: (messages: Message[]) => Message;
}

/** One request's record: a class rather than closures, as one is made for every webhook. */
class Pending {
  timer: NodeJS.Timeout | undefined = undefined;
  private settled = false;

  constructor(
    readonly message: Message,
    readonly enqueuedAt: number,
    private readonly onResolve: () => void,
    private readonly onReject: (err: AppError) => void,
  ) {}

  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.onResolve();
  }

  reject(err: AppError): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.onReject(err);
  }
}

/** A request's wait ran out: withdraw its record if still queued, answer 503. */
function expire(queue: Pending[], pending: Pending, timeoutMs: number): void {
  const index = queue.indexOf(pending);
  if (index >= 0) queue.splice(index, 1);
  pending.reject(unavailable(`Kafka did not acknowledge within ${timeoutMs} ms`, 'kafka_timeout'));
}

/** Bytes a record adds to a produce request (value, key and per-record framing). */
function recordBytes(message: Message): number {
  const size = (v: Message['value'] | Message['key']) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  return size(message.value) + size(message.key) + 64;
}

/**
 * A batch leaves before its linger ends once as many records wait as the largest of the last
 * RECENT_BATCHES batches, when that was at least EARLY_FLUSH_MIN_RECORDS. Many senders that each wait
 * for their answer (Meta catching up a backlog, a closed-loop load) come back together after an
 * acknowledgement: once they are all in, lingering further only adds latency and caps throughput. The
 * largest rather than the last batch, so the rule rarely fires under a steady open-loop rate, where
 * batches are the linger's Poisson counts; the floor keeps low rates lingering.
 */
const RECENT_BATCHES = 4;
const EARLY_FLUSH_MIN_RECORDS = 8;

const unavailable = (message: string, code = 'kafka_unavailable') => new AppError(code, message, 'retry', { httpStatus: 503 });

/**
 * Group commit for webhook receipts: concurrent requests enqueue their record, and whenever a
 * send slot is free everything queued so far goes out in one `producer.send` with acks=-1. Each
 * request's promise settles only when the batch holding its record is acknowledged by all in-sync
 * replicas, so a 200 to Meta always means "durably in Kafka". Records queue while a send is in
 * flight, and a send waits until its oldest record has lingered `lingerMs` (or the batch is full):
 * each produce call costs the receiver and the broker far more than a record in it does.
 */
export class BatchingProducer {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private connected = false;
  private readonly clock: Clock;
  private nextPartition = 0;
  /** Records in each of the last RECENT_BATCHES sends (a ring). */
  private readonly recentBatches = new Array<number>(RECENT_BATCHES).fill(0);
  private recentIndex = 0;
  /** Queued records at which a batch stops lingering (see EARLY_FLUSH_MIN_RECORDS); kept per send, read per request. */
  private earlyFlushAt = Infinity;

  constructor(private readonly options: BatchingProducerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Whether the underlying producer is connected; requests fail fast with 503 while it is not. */
  get isConnected(): boolean {
    return this.connected && !this.closed;
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Resolves once Kafka acknowledged the record. Rejects with `kafka_unavailable` when the producer
   * is down or the queue is full, and with `kafka_timeout` after `timeoutMs`: a record still queued
   * is then withdrawn; one already in flight may still land, which is harmless because Meta's retry
   * carries the same delivery id and the normaliser drops repeated events.
   */
  send(message: Message): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('producer is closed'));
    if (!this.connected) return Promise.reject(unavailable('producer is not connected to Kafka'));
    if (this.queue.length >= this.options.maxQueued) return Promise.reject(unavailable(`${this.queue.length} records already waiting for Kafka`));
    return new Promise<void>((resolve, reject) => {
      const pending = new Pending(message, this.clock.now(), resolve, reject);
      pending.timer = setTimeout(expire, this.options.timeoutMs, this.queue, pending, this.options.timeoutMs);
      this.queue.push(pending);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    if (this.options.lingerMs > 0 && this.queue.length < this.options.maxBatch && this.queue.length < this.earlyFlushAt) {
      const waitMs = this.queue[0]!.enqueuedAt + this.options.lingerMs - this.clock.now();
      if (waitMs > 0) {
        this.lingerTimer ??= setTimeout(() => {
          this.lingerTimer = undefined;
          this.flushOne();
        }, waitMs);
        return;
      }
    }
    this.flushOne();
  }

  private flushOne(): void {
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    let take = 0;
    let bytes = 0;
    while (take < this.queue.length && take < this.options.maxBatch) {
      bytes += recordBytes(this.queue[take]!.message);
      if (take > 0 && bytes > this.options.maxBatchBytes) break;
      take += 1;
    }
    const batch = this.queue.splice(0, take);
    this.recentBatches[this.recentIndex] = take;
    this.recentIndex = (this.recentIndex + 1) % RECENT_BATCHES;
    const largest = Math.max(...this.recentBatches);
    this.earlyFlushAt = largest >= EARLY_FLUSH_MIN_RECORDS ? largest : Infinity;
    let messages: Message[];
    try {
      messages = this.options.combine ? [this.options.combine(batch.map((p) => p.message))] : batch.map((p) => p.message);
    } catch (err) {
      const appErr = new AppError('produce_failed', `could not build the produce record: ${(err as Error).message}`, 'retry', { httpStatus: 503, cause: err });
      for (const p of batch) p.reject(appErr);
      this.schedule();
      return;
    }
    const partitions = this.options.partitions?.();
    if (partitions !== undefined && partitions > 0) {
      const partition = this.nextPartition % partitions;
      this.nextPartition = partition + 1;
      for (const m of messages) m.partition = partition;
    }
    this.inFlight += 1;
    const startedAt = performance.now();
    this.options.producer
      .send({
        topic: this.options.topic,
        acks: -1,
        messages,
        ...(this.options.compression !== undefined ? { compression: this.options.compression } : {}),
      })
      .then(
        () => {
          this.options.onSend?.(batch.length, (performance.now() - startedAt) / 1000, true);
          for (const p of batch) p.resolve();
        },
        (err: unknown) => {
          this.options.onSend?.(batch.length, (performance.now() - startedAt) / 1000, false);
          // Whatever Kafka refused (unreachable, or a record rejected as too large), Meta is told 503 and retries.
          const cause = kafkaError(err, 'produce wa.webhooks.raw');
          const appErr = new AppError(cause.code, cause.message, 'retry', { httpStatus: 503, cause: err });
          for (const p of batch) p.reject(appErr);
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    this.schedule();
  }

  /** Stops accepting records and waits until everything queued or in flight has settled. */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
      if (this.inFlight === 0) this.flushOne();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const p of this.queue.splice(0)) p.reject(unavailable('producer closed before the record was sent'));
  }
}
