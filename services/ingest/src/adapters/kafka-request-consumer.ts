import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaError } from '@wa/shared/kafka';
import { backoffDelayMs } from '@wa/shared/backoff';
import { isProgrammerError, isStalled } from '../domain/retry';
import type { IngestMetrics } from '../metrics';
import type { Envelope, Pipeline } from '../pipeline';
import type { Clock } from '../ports';

/** Header set by the HTTP front door: the claim id under which it took the idempotency key. */
export const OWNER_HEADER = 'x-ingest-owner';

export interface RequestConsumerDeps {
  /** Builds a fresh kafkajs consumer. One that crashed for good is replaced, never run again. */
  newConsumer: () => Consumer;
  pipeline: Pipeline;
  topic: string;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
  partitionsConsumedConcurrently: number;
  /** No fetch, batch, heartbeat or join for this long while consuming: the consumer is replaced. */
  stallMs: number;
  /** Backoff between attempts to bring a replacement consumer up. */
  restartBaseMs: number;
  restartMaxMs: number;
  /** A programmer error: the caller makes the process exit 1 so the orchestrator restarts it. */
  onFatal: (err: unknown) => void;
}

type Phase = 'idle' | 'joining' | 'consuming' | 'recovering' | 'crashed' | 'replacing' | 'stopped';

/**
 * The Kafka front door: batch consumption of the request topic with manual commits. An offset is
 * committed only after the outputs of every record up to it are acknowledged (acks=-1).
 *
 * Supervised, because kafkajs can leave a consumer dead without telling anyone but its log:
 * - a CRASH with `restart: false` (the original cause was not retriable, e.g. the coordinator
 *   answering an error kafkajs does not retry) ends kafkajs' own restart loop for good;
 * - a consumer can also go quiet (no fetch, no heartbeat) after a broker restart.
 * Either way the consumer is replaced by a new one, with backoff until the broker answers, and
 * readiness is false until it consumes again. Programmer errors go to `onFatal` (exit 1).
 */
export function createRequestConsumer(deps: RequestConsumerDeps) {
  const { topic, logger } = deps;
  let consumer: Consumer | undefined;
  let generation = 0;
  let phase: Phase = 'idle';
  let stopping = false;
  let lastActivityMs = deps.clock.now();
  let replacing: Promise<void> | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function eachBatch(payload: Parameters<NonNullable<Parameters<Consumer['run']>[0]>['eachBatch'] & {}>[0], c: Consumer): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
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
    try {
      await deps.pipeline.processEnvelopes(envs, {
        shouldStop: () => stopping || !isRunning() || isStale(),
        heartbeat: async () => {
          lastActivityMs = deps.clock.now();
          await heartbeat();
        },
        committed: async (index) => {
          const offset = batch.messages[index]!.offset;
          resolveOffset(offset);
          await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
          lastActivityMs = deps.clock.now();
        },
      });
    } catch (err) {
      if (isProgrammerError(err)) deps.onFatal(err);
      // Anything else is a dependency failure: kafkajs retries the batch from the last commit.
      else logger.warn({ err, partition: batch.partition }, 'request batch failed; kafkajs retries it from the last commit');
      throw err;
    }
    deps.metrics.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
  }

  /** Creates, connects and runs one consumer; resolves once it joined the group. */
  async function launch(): Promise<void> {
    const c = deps.newConsumer();
    const gen = ++generation;
    consumer = c;
    phase = 'joining';
    let launched = false;
    const current = () => gen === generation && !stopping;
    const touch = () => {
      if (current()) lastActivityMs = deps.clock.now();
    };
    for (const ev of [c.events.FETCH_START, c.events.FETCH, c.events.HEARTBEAT, c.events.START_BATCH_PROCESS, c.events.END_BATCH_PROCESS, c.events.COMMIT_OFFSETS]) c.on(ev, touch);
    c.on(c.events.GROUP_JOIN, (e) => {
      if (!current()) return;
      touch();
      phase = 'consuming';
      logger.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment, durationMs: e.payload.duration }, 'request consumer joined the group');
    });
    c.on(c.events.REBALANCING, () => {
      if (!current()) return;
      touch();
      logger.warn('request consumer group is rebalancing');
    });
    c.on(c.events.CRASH, (e) => {
      if (!current()) return;
      const { error, restart } = e.payload;
      deps.metrics.consumerCrashes.inc({ restart: String(restart) });
      if (isProgrammerError(error)) {
        logger.fatal({ err: error }, 'request consumer crashed on a programmer error');
        deps.onFatal(error);
        return;
      }
      if (restart) {
        // kafkajs restarts it itself; readiness stays off until it has joined again.
        phase = 'recovering';
        logger.error({ err: error }, 'request consumer crashed; kafkajs restarts it');
        return;
      }
      logger.error({ err: error }, 'request consumer crashed and kafkajs gave up on it; replacing it');
      phase = 'crashed';
      // During launch() the crash fails the launch instead (its caller retries).
      if (launched) void replace('crash');
    });
    try {
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently,
        eachBatch: (payload) => eachBatch(payload, c),
      });
    } catch (err) {
      generation++;
      consumer = undefined;
      await c.disconnect().catch(() => undefined);
      throw kafkaError(err, 'subscribe to requests');
    }
    // run() resolves after the first join, or after a failed join went to the CRASH handler.
    // (The CRASH handler may have changed `phase` while run() was awaited.)
    if ((phase as Phase) === 'crashed') {
      generation++;
      consumer = undefined;
      await c.disconnect().catch(() => undefined);
      throw new Error('the request consumer crashed while joining');
    }
    if (phase === 'joining') phase = 'consuming';
    launched = true;
    lastActivityMs = deps.clock.now();
  }

  /** Disconnects the current consumer (bounded) and launches a new one, retrying with backoff. */
  function replace(reason: 'crash' | 'stalled'): Promise<void> {
    replacing ??= (async () => {
      deps.metrics.consumerRestarts.inc({ reason });
      phase = 'replacing';
      const old = consumer;
      generation++;
      consumer = undefined;
      if (old) await withTimeout(old.disconnect(), 10_000).catch((err: unknown) => logger.warn({ err }, 'disconnecting the replaced request consumer failed'));
      for (let attempt = 1; !stopping; attempt++) {
        try {
          await launch();
          logger.info({ reason, attempt }, 'request consumer replaced');
          return;
        } catch (err) {
          const delayMs = backoffDelayMs(attempt - 1, { baseMs: deps.restartBaseMs, maxMs: deps.restartMaxMs, minMs: deps.restartBaseMs });
          phase = 'replacing';
          logger.warn({ err, attempt, delayMs }, 'starting a replacement request consumer failed; retrying');
          await sleep(delayMs);
        }
      }
    })().finally(() => {
      replacing = undefined;
    });
    return replacing;
  }

  function checkStall(): void {
    if (stopping || replacing || phase === 'idle') return;
    if (!isStalled(lastActivityMs, deps.clock.now(), deps.stallMs)) return;
    logger.error({ phase, silentMs: deps.clock.now() - lastActivityMs, stallMs: deps.stallMs }, 'request consumer stalled (no fetch, heartbeat or batch); replacing it');
    void replace('stalled');
  }

  return {
    /** Connects and joins; throws when Kafka does not answer (start-up fails, the process exits). */
    async start(): Promise<void> {
      await launch();
      watchdog = setInterval(checkStall, Math.max(100, Math.min(5_000, Math.floor(deps.stallMs / 4))));
      watchdog.unref();
    },
    /** For readiness: rejects unless a consumer is joined and showed life within `stallMs`. */
    async check(): Promise<void> {
      if (phase !== 'consuming') throw new Error(`request consumer ${phase}`);
      if (isStalled(lastActivityMs, deps.clock.now(), deps.stallMs)) throw new Error(`request consumer silent for ${deps.clock.now() - lastActivityMs} ms`);
    },
    get phase(): Phase {
      return phase;
    },
    /** Runs the watchdog now (tests use it instead of waiting for the interval). */
    checkStall,
    /** Stops fetching; a batch in progress finishes its produce and commits what it finished. */
    async stop(): Promise<void> {
      stopping = true;
      phase = 'stopped';
      clearInterval(watchdog);
      wakeUp?.();
      await replacing;
      const c = consumer;
      consumer = undefined;
      if (c) {
        await c.stop();
        await c.disconnect();
      }
    },
  };
}
export type RequestConsumer = ReturnType<typeof createRequestConsumer>;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
