import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { createConsumer } from '@wa/shared/kafka';
import { dispatchJobV1, type DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { decodeJson } from '@wa/shared/decode';
import type { JobSource } from '../handle-job';

/** A counting semaphore bounding jobs in flight across all partitions of a process. */
export function createSemaphore(limit: number) {
  let active = 0;
  const waiters: (() => void)[] = [];
  return {
    async acquire(): Promise<void> {
      if (active < limit) {
        active++;
        return;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    },
    release(): void {
      const next = waiters.shift();
      if (next) next();
      else active--;
    },
    get active() {
      return active;
    },
  };
}
export type Semaphore = ReturnType<typeof createSemaphore>;

export interface DispatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Retry topics hold each record until its `retryAt`. */
  delayed: boolean;
  partitionsConsumedConcurrently: number;
  semaphore: Semaphore;
  logger: Logger;
  handle: (job: DispatchJobV1, src: JobSource) => Promise<void>;
  /** A record that is not a valid job: dead-letter it (resolves once acknowledged). */
  poison: (src: JobSource, reason: 'invalid_json' | 'schema_violation' | 'record_too_large', detail: string) => Promise<void>;
  now: () => number;
}

/**
 * One consumer group over a set of dispatch topics. Within a batch, records of different
 * recipients run concurrently (bounded by the shared semaphore) and records of one recipient run in
 * offset order; an offset is resolved only when it and every earlier record of the batch are done,
 * so auto-commit never commits past a job whose outcome is not yet acknowledged.
 */
export class DispatchConsumer {
  private consumer: Consumer;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private rebuilding: Promise<void> | undefined;
  /** False while kafkajs has given up on the consumer and it is being rebuilt (readiness reads it). */
  running = false;
  /** How many times the consumer was rebuilt after kafkajs gave up on it. */
  rebuilds = 0;

  constructor(private readonly options: DispatchConsumerOptions) {
    this.consumer = this.create();
  }

  private create(): Consumer {
    const consumer = createConsumer(this.options.kafka, { groupId: this.options.groupId, maxWaitTimeInMs: 100 });
    // kafkajs restarts a consumer after retriable failures by itself, but after a crash with
    // restart=false (e.g. retries exhausted while the broker restarts) it stays stopped for good:
    // rebuild it, or this lane would silently stop sending.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopping) return;
      this.running = false;
      this.options.logger.error({ err: payload.error, groupId: this.options.groupId }, 'consumer crashed without restart; rebuilding it');
      this.rebuilding ??= this.rebuild().finally(() => (this.rebuilding = undefined));
    });
    return consumer;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.running = true;
  }

  private async rebuild(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      await this.consumer.disconnect().catch(() => undefined);
      for (const t of this.resumeTimers) clearTimeout(t);
      this.resumeTimers.clear();
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      if (this.stopping) return;
      this.consumer = this.create();
      try {
        await this.start();
        this.rebuilds += 1;
        this.options.logger.warn({ groupId: this.options.groupId, attempt }, 'consumer rebuilt');
        return;
      } catch (err) {
        this.options.logger.error({ err, groupId: this.options.groupId, attempt }, 'consumer rebuild failed; retrying');
      }
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const log = this.options.logger;
    const messages = batch.messages;
    const done = new Array<boolean>(messages.length).fill(false);
    let resolvedUpTo = -1;
    const advance = () => {
      while (resolvedUpTo + 1 < messages.length && done[resolvedUpTo + 1]) resolvedUpTo++;
    };
    const chains = new Map<string, Promise<void>>();
    const all: Promise<void>[] = [];
    let failure: unknown;
    let notDue: { index: number; retryAt: number } | undefined;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 2_000);

    try {
      for (let i = 0; i < messages.length; i++) {
        if (!isRunning() || isStale() || failure) break;
        const message = messages[i]!;
        const src = this.source(batch.topic, batch.partition, message);
        const decoded = decodeJson(dispatchJobV1, message.value);
        if (decoded.ok && this.options.delayed && decoded.value.retryAt !== undefined && decoded.value.retryAt > this.options.now()) {
          notDue = { index: i, retryAt: decoded.value.retryAt };
          break;
        }
        const key = decoded.ok ? decoded.value.to : `poison:${message.offset}`;
        const index = i;
        const prev = chains.get(key) ?? Promise.resolve();
        const run = prev.then(async () => {
          if (failure) return;
          await this.options.semaphore.acquire();
          let held = true;
          const release = () => {
            if (!held) return;
            held = false;
            this.options.semaphore.release();
          };
          try {
            if (decoded.ok) await this.options.handle(decoded.value, { ...src, releaseConcurrency: release });
            else await this.options.poison(src, decoded.reason, decoded.detail);
            done[index] = true;
          } catch (err) {
            failure ??= err;
          } finally {
            release();
          }
        });
        chains.set(key, run);
        all.push(run);
        // Resolve progressively so a long batch (a slow number) commits as it goes.
        void run.then(() => {
          const before = resolvedUpTo;
          advance();
          if (resolvedUpTo > before) resolveOffset(messages[resolvedUpTo]!.offset);
        });
        if (all.length % 256 === 0) await Promise.resolve();
      }
      await Promise.all(all);
      advance();
      if (resolvedUpTo >= 0) resolveOffset(messages[resolvedUpTo]!.offset);
    } finally {
      clearInterval(beat);
    }

    if (failure) {
      log.error({ err: failure, topic: batch.topic, partition: batch.partition }, 'job handling failed; the batch will be redelivered from the last resolved offset');
      throw failure;
    }
    if (notDue && isRunning() && !isStale()) {
      // Hold the partition until the head record is due; its offset is unresolved, so it is fetched again on resume.
      const resume = payload.pause();
      const timer = setTimeout(() => {
        this.resumeTimers.delete(timer);
        resume();
      }, Math.max(10, notDue.retryAt - this.options.now()));
      this.resumeTimers.add(timer);
    }
  }

  private source(topic: string, partition: number, m: KafkaMessage): JobSource {
    return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? Buffer.alloc(0) };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    for (const t of this.resumeTimers) clearTimeout(t);
    this.resumeTimers.clear();
    await this.consumer.disconnect();
  }
}
