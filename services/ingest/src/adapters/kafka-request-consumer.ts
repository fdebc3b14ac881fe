import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { BackoffPolicy } from '@wa/shared/backoff';
import { ConsumerRunner, type BatchContext } from '@wa/shared/kafka-consumer-runner';
import { isProgrammerError } from '../domain/retry';
import type { IngestMetrics } from '../metrics';
import type { Envelope, Pipeline } from '../pipeline';
import type { Clock } from '../ports';

/** Header set by the HTTP front door: the claim id under which it took the idempotency key. */
export const OWNER_HEADER = 'x-ingest-owner';

export interface RequestConsumerDeps {
  kafka: Kafka;
  groupId: string;
  /** Largest fetch; at least two of the largest records. */
  maxBytes: number;
  pipeline: Pipeline;
  topic: string;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
  partitionsConsumedConcurrently: number;
  /** No fetch, batch, heartbeat or join for this long while consuming: the consumer is replaced. */
  stallMs: number;
  /** Back-off between attempts to bring a replacement consumer up. */
  restartBaseMs: number;
  restartMaxMs: number;
  /** A programmer error: the caller makes the process exit 1 so the orchestrator restarts it. */
  onFatal: (err: unknown) => void;
}

/**
 * The Kafka front door: batch consumption of the request topic with manual commits. An offset is
 * committed only after the outputs of every record up to it are acknowledged (acks=-1). The shared
 * runner supervises the consumer (crash or silence → replacement, readiness off meanwhile);
 * programmer errors go to `onFatal` (exit 1).
 */
export function createRequestConsumer(deps: RequestConsumerDeps) {
  async function eachBatch(payload: EachBatchPayload, ctx: BatchContext): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const envs: Envelope[] = batch.messages.map((m) => {
      const ownerHeader = m.headers?.[OWNER_HEADER];
      const owner = ownerHeader ? String(Array.isArray(ownerHeader) ? ownerHeader[0] : ownerHeader) : `k:${batch.topic}:${batch.partition}:${m.offset}`;
      return {
        key: m.key,
        value: m.value,
        source: { kind: 'kafka', topic: batch.topic, partition: batch.partition, offset: m.offset },
        owner,
        receivedAtMs: Number(m.timestamp),
      };
    });
    await deps.pipeline.processEnvelopes(envs, {
      shouldStop: () => ctx.stopping() || !isRunning() || isStale(),
      heartbeat,
      committed: (index) => ctx.commit(batch.messages[index]!.offset),
    });
  }

  const restartBackoff: BackoffPolicy = { baseMs: deps.restartBaseMs, maxMs: deps.restartMaxMs, minMs: deps.restartBaseMs };
  return new ConsumerRunner({
    kafka: deps.kafka,
    groupId: deps.groupId,
    topics: [deps.topic],
    consumer: { maxBytes: deps.maxBytes },
    partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently,
    eachBatch,
    logger: deps.logger,
    metrics: deps.metrics.consumer,
    rebuildBackoff: restartBackoff,
    stallMs: deps.stallMs,
    clock: deps.clock,
    isFatal: isProgrammerError,
    onFatal: deps.onFatal,
  });
}
export type RequestConsumer = ReturnType<typeof createRequestConsumer>;
