import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelayMs } from '@wa/shared/backoff';
import type { Clock } from '@wa/shared/clock';
import type { ConsumerMetrics } from '@wa/shared/kafka-consumer-metrics';
import { ConsumerRunner, type BatchContext } from '@wa/shared/kafka-consumer-runner';
import { dispatchJobV1, type DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { decodeJson } from '@wa/shared/decode';
import { PartitionProgress } from '../domain/partition-progress';
import type { Semaphore } from '../domain/semaphore';
import { SendRoomClosedError } from '../domain/send-room';
import type { JobConcurrency, JobSource } from '../handle-job';

export interface DispatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Retry topics hold each record until its `retryAt`. */
  delayed: boolean;
  /** A held record that may go before its `retryAt` (its paused campaign was resumed or cancelled). */
  dueEarly?: (job: DispatchJobV1) => boolean | Promise<boolean>;
  partitionsConsumedConcurrently: number;
  /** Records this consumer may have taken and not finished, across its partitions (the look-ahead past a slow job). */
  lookahead: number;
  /** How often resolved progress is committed. */
  commitIntervalMs: number;
  semaphore: Semaphore;
  logger: Logger;
  metrics?: ConsumerMetrics;
  /** Runs one job to its durable outcome; takes the job's concurrency permit itself (see JobConcurrency). */
  handle: (job: DispatchJobV1, src: JobSource, concurrency: JobConcurrency) => Promise<void>;
  /** A record that is not a valid job: dead-letter it (resolves once acknowledged). */
  poison: (src: JobSource, reason: 'invalid_json' | 'schema_violation' | 'record_too_large', detail: string) => Promise<void>;
  clock: Clock;
}

interface PartitionState {
  topic: string;
  partition: number;
  progress: PartitionProgress;
  /** Tail of each recipient's chain: records of one recipient run in offset order, across batches. */
  chains: Map<string, Promise<void>>;
  /** Bumped when the partition must be fetched again from its watermark (a job failed) or is no longer ours: jobs of an older epoch that have not started yet do not start. */
  epoch: number;
  committed: number | undefined;
  recovery: NodeJS.Timeout | undefined;
  failures: number;
}

const RECOVERY_BASE_MS = 500;
const RECOVERY_MAX_MS = 10_000;
/**
 * How long the broker holds a fetch that finds nothing new. A fetch returns as soon as a record arrives, so
 * this delays no new job; it bounds how late a resumed (held retry) or seeked-back partition is fetched again
 * and sets how often an idle consumer asks (four groups at 100 ms kept the dispatcher and the broker busy while
 * idle). 500 ms is the Java client's default.
 */
const FETCH_MAX_WAIT_MS = 500;

/**
 * One consumer group over a set of dispatch topics. Records are taken from a batch as fast as the
 * look-ahead allows, not batch by batch: kafkajs fetches the next batch of every partition only once
 * the current ones are handled, so waiting for a slow number's jobs would hold up every other
 * number's jobs behind them. Records of different recipients run concurrently (bounded by the shared
 * semaphore and each number's send room), records of one recipient in offset order. Offsets are
 * committed by this class (not kafkajs' auto-commit): per partition, the first offset whose job is
 * not yet done, so a restart or rebalance never skips a job whose outcome is not acknowledged. A job
 * that fails (Redis or Kafka down) makes its partition seek back to that watermark after a back-off;
 * records that are running or done are not run again when fetched again.
 */
export class DispatchConsumer {
  private readonly runner: ConsumerRunner;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly capacityWaiters: (() => void)[] = [];
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly options: DispatchConsumerOptions) {
    this.runner = new ConsumerRunner({
      kafka: options.kafka,
      groupId: options.groupId,
      topics: options.topics,
      consumer: { maxWaitTimeInMs: FETCH_MAX_WAIT_MS },
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: (payload, ctx) => this.eachBatch(payload, ctx),
      logger: options.logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      clock: options.clock,
      onAssignment: (assigned) => this.onAssignment(assigned),
      // The new consumer joins afresh and fetches from the committed watermarks; jobs still
      // running here finish (their outcomes are acknowledged; a redelivery re-announces them).
      onReplace: () => this.forgetPartitions(),
    });
  }

  /** Records taken and not finished (the look-ahead in use). */
  get buffered(): number {
    return this.inFlight.size;
  }

  /** False while kafkajs has given up on the consumer and it is being rebuilt (readiness reads it). */
  get running(): boolean {
    return this.runner.running;
  }

  async start(): Promise<void> {
    await this.runner.start();
    this.commitTimer ??= setInterval(() => void this.commit(), this.options.commitIntervalMs);
  }

  /**
   * A rebalance: partitions that are no longer ours stop starting jobs (the new owner fetches
   * them from the committed watermark; the ledger makes the overlap safe); kafkajs re-fetches
   * the ones we keep from the committed offset, and what is running or done is skipped.
   */
  private onAssignment(assigned: ReadonlySet<string>): void {
    for (const [key, state] of this.partitions) {
      // What we think is committed may not be: a commit while kafkajs restarted its runner returns without committing.
      state.committed = undefined;
      if (assigned.has(key)) continue;
      state.epoch++;
      clearTimeout(state.recovery);
      this.partitions.delete(key);
    }
  }

  private forgetPartitions(): void {
    for (const state of this.partitions.values()) {
      state.epoch++;
      clearTimeout(state.recovery);
    }
    this.partitions.clear();
  }

  private stateOf(topic: string, partition: number): PartitionState {
    const key = `${topic}:${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, progress: new PartitionProgress(), chains: new Map(), epoch: 0, committed: undefined, recovery: undefined, failures: 0 };
      this.partitions.set(key, state);
    }
    return state;
  }

  private async eachBatch(payload: EachBatchPayload, ctx: BatchContext): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const state = this.stateOf(batch.topic, batch.partition);
    const messages = batch.messages;
    let notDue: { retryAt: number } | undefined;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 2_000);
    try {
      for (let i = 0; i < messages.length; i++) {
        while (this.inFlight.size >= this.options.lookahead && !this.stopping) await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
        if (!isRunning() || isStale() || this.stopping || this.partitions.get(`${batch.topic}:${batch.partition}`) !== state) break;
        const message = messages[i]!;
        const offset = Number(message.offset);
        // Fetch on from here, whatever the job's fate: a failure seeks back to the watermark.
        // Records fetched again that are running or done are skipped before they are decoded.
        if (!state.progress.wants(offset)) {
          resolveOffset(message.offset);
          continue;
        }
        const decoded = decodeJson(dispatchJobV1, message.value);
        if (
          decoded.ok &&
          this.options.delayed &&
          decoded.value.retryAt !== undefined &&
          decoded.value.retryAt > this.options.clock.now() &&
          !(await this.options.dueEarly?.(decoded.value))
        ) {
          notDue = { retryAt: decoded.value.retryAt };
          break;
        }
        resolveOffset(message.offset);
        state.progress.take(offset);
        this.startJob(state, offset, this.source(batch.topic, batch.partition, message), decoded);
        // Let timers and sockets run between slices of a large batch: a microtask yield does not, and
        // decoding and starting a fetch of thousands of jobs in one go stalled the event loop for
        // 0.3–1 s, and with it every number's pacing (bench:dispatch A, while the look-ahead filled).
        if (i % 128 === 127) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      clearInterval(beat);
    }

    if (notDue && isRunning() && !isStale() && !this.stopping) {
      // Hold the partition until the head record is due; it is unresolved, so it is fetched again on resume.
      ctx.pauseFor(Math.max(10, notDue.retryAt - this.options.clock.now()));
    }
  }

  /** Ends every hold now: each held partition's head record is looked at again (a campaign was resumed). */
  wake(): number {
    if (this.stopping) return 0;
    return this.runner.resumePaused();
  }

  private startJob(state: PartitionState, offset: number, src: JobSource, decoded: ReturnType<typeof decodeJson<typeof dispatchJobV1>>): void {
    const key = decoded.ok ? decoded.value.to : `poison:${offset}`;
    const epoch = state.epoch;
    const prev = state.chains.get(key) ?? Promise.resolve();
    const run = prev.then(async () => {
      // A failure earlier in this partition, or the partition is no longer ours: do not start; it is fetched again.
      if (state.epoch !== epoch) return state.progress.failed(offset);
      const { semaphore } = this.options;
      let held = false;
      const concurrency: JobConcurrency = {
        async acquire() {
          if (held) return;
          await semaphore.acquire();
          held = true;
        },
        release() {
          if (!held) return;
          held = false;
          semaphore.release();
        },
      };
      try {
        if (decoded.ok) await this.options.handle(decoded.value, src, concurrency);
        else {
          await concurrency.acquire();
          await this.options.poison(src, decoded.reason, decoded.detail);
        }
        state.progress.done(offset);
        state.failures = 0;
      } catch (err) {
        state.progress.failed(offset);
        if (err instanceof SendRoomClosedError || this.stopping) return;
        this.onFailure(state, err);
      } finally {
        concurrency.release();
      }
    });
    state.chains.set(key, run);
    this.inFlight.add(run);
    void run.finally(() => {
      if (state.chains.get(key) === run) state.chains.delete(key);
      this.inFlight.delete(run);
      this.capacityWaiters.shift()?.();
    });
  }

  /** A job failed (Redis or Kafka): stop starting this partition's queued jobs and fetch it again from its watermark after a back-off. */
  private onFailure(state: PartitionState, err: unknown): void {
    state.epoch++;
    if (state.recovery) return;
    this.options.logger.error(
      { err, topic: state.topic, partition: state.partition },
      'job handling failed; the partition is fetched again from its watermark',
    );
    this.scheduleRecovery(state);
  }

  private scheduleRecovery(state: PartitionState): void {
    const delayMs = backoffDelayMs(state.failures++, { baseMs: RECOVERY_BASE_MS, maxMs: RECOVERY_MAX_MS, jitter: 'none' });
    state.recovery = setTimeout(() => {
      state.recovery = undefined;
      if (this.stopping || this.partitions.get(`${state.topic}:${state.partition}`) !== state) return;
      const offset = state.progress.commitOffset();
      if (offset === undefined) return;
      try {
        this.runner.seek(state.topic, state.partition, String(offset));
      } catch (seekErr) {
        // Not running (kafkajs restarting it): try again, or a failed job would hold the watermark for good.
        this.options.logger.warn({ err: seekErr, topic: state.topic, partition: state.partition }, 'seek after a failure was refused; trying again');
        this.scheduleRecovery(state);
      }
    }, delayMs);
  }

  /** Commits each partition's watermark that moved since its last commit. */
  private commit(): Promise<void> {
    this.committing ??= (async () => {
      const offsets: { topic: string; partition: number; offset: string }[] = [];
      const states: [PartitionState, number][] = [];
      for (const state of this.partitions.values()) {
        const offset = state.progress.commitOffset();
        if (offset === undefined || offset === state.committed) continue;
        offsets.push({ topic: state.topic, partition: state.partition, offset: String(offset) });
        states.push([state, offset]);
      }
      if (offsets.length === 0) return;
      try {
        await this.runner.commitOffsets(offsets);
        for (const [state, offset] of states) state.committed = offset;
      } catch (err) {
        // A rebalance in progress or a broker restart: the next tick commits again.
        this.options.logger.debug({ err, groupId: this.options.groupId }, 'offset commit failed; retrying on the next tick');
      }
    })().finally(() => (this.committing = undefined));
    return this.committing;
  }

  private source(topic: string, partition: number, m: KafkaMessage): JobSource {
    return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? Buffer.alloc(0) };
  }

  /**
   * Stops fetching, lets the jobs already past their number's send room finish (the caller closes
   * the room first, so jobs still waiting there give up and are fetched again by the next owner),
   * commits the watermarks, then leaves the group.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const state of this.partitions.values()) {
      state.epoch++;
      clearTimeout(state.recovery);
    }
    for (const wake of this.capacityWaiters.splice(0)) wake();
    await this.runner.stop(async () => {
      await Promise.allSettled([...this.inFlight]);
      clearInterval(this.commitTimer);
      await this.committing;
      await this.commit();
    });
  }
}
