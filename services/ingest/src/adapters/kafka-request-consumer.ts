import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaError } from '@wa/shared/kafka';
import type { IngestMetrics } from '../metrics';
import type { Envelope, Pipeline } from '../pipeline';

/** Header set by the HTTP front door: the claim id under which it took the idempotency key. */
export const OWNER_HEADER = 'x-ingest-owner';

/**
 * The Kafka front door: batch consumption of the request topic with manual commits. An offset is
 * committed only after the outputs of every record up to it are acknowledged (acks=-1); a long
 * broadcast expansion heartbeats per chunk and stops early on rebalance or shutdown, leaving its
 * checkpoint for whoever gets the partition next.
 */
export function createRequestConsumer(deps: { consumer: Consumer; pipeline: Pipeline; topic: string; metrics: IngestMetrics; logger: Logger; partitionsConsumedConcurrently: number }) {
  const { consumer, topic } = deps;
  let stopping = false;
  return {
    async start(): Promise<void> {
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
      } catch (err) {
        throw kafkaError(err, 'subscribe to requests');
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
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
            shouldStop: () => stopping || !isRunning() || isStale(),
            heartbeat: async () => {
              await heartbeat();
            },
            committed: async (index) => {
              const offset = batch.messages[index]!.offset;
              resolveOffset(offset);
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
            },
          });
          deps.metrics.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
        },
      });
    },
    /** Stops fetching; an expansion in progress saves its checkpoint and returns without committing. */
    async stop(): Promise<void> {
      stopping = true;
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}
