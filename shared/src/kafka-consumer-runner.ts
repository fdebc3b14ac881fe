import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from './backoff';
import { systemClock, type Clock } from './clock';
import { createConsumer, kafkaError } from './kafka';
import type { ConsumerMetrics } from './kafka-consumer-metrics';

/**
 * The consumer group id for a service's group name: `GROUP_PREFIX` when set, else `TOPIC_PREFIX`,
 * in front of it. Two environments (or a benchmark and a test run) sharing one cluster with
 * different topic prefixes then never join each other's groups.
 */
export function consumerGroupId(name: string, prefixes: { TOPIC_PREFIX: string; GROUP_PREFIX?: string | undefined }): string {
  return (prefixes.GROUP_PREFIX ?? prefixes.TOPIC_PREFIX) + name;
}

export type ConsumerPhase = 'idle' | 'joining' | 'consuming' | 'recovering' | 'crashed' | 'replacing' | 'stopped';

/** What a batch handler gets besides kafkajs' payload. */
export interface BatchContext {
  /** True once stop() was called: finish what is started, take nothing new. */
  stopping(): boolean;
  /** Marks `offset` of this batch's partition processed and commits past it (the next fetch starts after it). */
  commit(offset: string): Promise<void>;
  /** Pauses this batch's partition for `ms`; unresolved records are fetched again on resume. */
  pauseFor(ms: number): void;
}

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** Fetch and session settings on top of createConsumer's defaults. */
  consumer?: Omit<ConsumerConfig, 'groupId'>;
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
  /** kafkajs resolves the batch's offsets when eachBatch returns (default false: the handler resolves). */
  eachBatchAutoResolve?: boolean;
  /** The service's per-batch logic. Offsets are never auto-committed: the handler commits (ctx.commit or commitOffsets). */
  eachBatch(payload: EachBatchPayload, ctx: BatchContext): Promise<void>;
  logger: Logger;
  metrics?: ConsumerMetrics;
  /** Between attempts to bring a replacement consumer up (default 250 ms doubling to 10 s, equal jitter). */
  rebuildBackoff?: BackoffPolicy;
  /** No fetch, batch, heartbeat, join or commit for this long while consuming: the consumer is replaced (default off). */
  stallMs?: number;
  clock?: Clock;
  /** Errors that must end the process (programmer errors): passed to onFatal instead of being retried. */
  isFatal?(err: unknown): boolean;
  onFatal?(err: unknown): void;
  /** A consumer joined the group with these partitions (`topic:partition`). */
  onAssignment?(assigned: ReadonlySet<string>): void;
  /** The consumer is being replaced: forget per-partition state (the next one fetches from the committed offsets). */
  onReplace?(): void;
}

const DISCONNECT_TIMEOUT_MS = 10_000;

/**
 * One consumer group over a set of topics, supervised. kafkajs restarts a consumer after retriable
 * failures by itself, but can leave it dead without telling anyone but its log:
 * - a CRASH with `restart: false` (the cause was not retriable, or retries ran out while the
 *   broker restarted) ends kafkajs' own restart loop for good;
 * - a consumer can go quiet (no fetch, no heartbeat) after a broker restart (see `stallMs`).
 * Either way it is replaced by a new consumer, with back-off until the broker answers; `phase`
 * and `check()` tell readiness. Offsets are committed only by the handler (at-least-once).
 * One class past the 300-line guide: the rebuild loop, pause timers and the watchdog all read and
 * write the same consumer generation and phase, so splitting them would hand that state around.
 */
export class ConsumerRunner {
  private consumer: Consumer | undefined;
  private generation = 0;
  private phaseNow: ConsumerPhase = 'idle';
  private stoppingNow = false;
  private lastActivityMs: number;
  private replacing: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  /** Partitions paused by pauseFor: the timer and the resume that ends the pause. */
  private readonly pauseTimers = new Map<NodeJS.Timeout, () => void>();
  private readonly clock: Clock;
  private readonly isStopping = () => this.stoppingNow;

  constructor(private readonly options: ConsumerRunnerOptions) {
    this.clock = options.clock ?? systemClock;
    this.lastActivityMs = this.clock.now();
  }

  get groupId(): string {
    return this.options.groupId;
  }

  get phase(): ConsumerPhase {
    return this.phaseNow;
  }

  /** False while kafkajs gave up on the consumer and it is being replaced (or before start / after stop). */
  get running(): boolean {
    return this.phaseNow === 'joining' || this.phaseNow === 'consuming' || this.phaseNow === 'recovering';
  }

  /** Connects and joins once; throws when Kafka does not answer. */
  async start(): Promise<void> {
    await this.launch();
    this.startWatchdog();
  }

  /** Connects and joins, retrying with the rebuild back-off until it works or stop() is called. */
  async startWithRetry(): Promise<void> {
    await this.replace(undefined);
    this.startWatchdog();
  }

  /** For readiness: rejects unless a consumer is joined and (with `stallMs`) showed life within it. */
  async check(): Promise<void> {
    if (this.phaseNow !== 'consuming') throw new Error(`consumer ${this.options.groupId} ${this.phaseNow}`);
    const silentMs = this.clock.now() - this.lastActivityMs;
    if (this.options.stallMs !== undefined && silentMs > this.options.stallMs) throw new Error(`consumer ${this.options.groupId} silent for ${silentMs} ms`);
  }

  /** Commits through the current consumer; throws while there is none (being replaced). */
  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    const c = this.consumer;
    if (c === undefined) throw new Error(`consumer ${this.options.groupId} is being replaced`);
    await c.commitOffsets(offsets);
    this.touch();
  }

  /** Seeks the current consumer; throws while there is none or it is not running. */
  seek(topic: string, partition: number, offset: string): void {
    const c = this.consumer;
    if (c === undefined) throw new Error(`consumer ${this.options.groupId} is being replaced`);
    c.seek({ topic, partition, offset });
  }

  /** Runs the stall watchdog now (tests call it instead of waiting for its interval). */
  checkStall(): void {
    const { stallMs } = this.options;
    if (stallMs === undefined || this.stoppingNow || this.replacing || this.phaseNow === 'idle') return;
    const silentMs = this.clock.now() - this.lastActivityMs;
    if (silentMs <= stallMs) return;
    this.options.logger.error(
      { groupId: this.options.groupId, phase: this.phaseNow, silentMs, stallMs },
      'consumer stalled (no fetch, heartbeat or batch); replacing it',
    );
    void this.replace('stalled');
  }

  /**
   * Stops fetching (pauses every topic; still a group member, so commits work), runs `drain` (the
   * handler finishes or flushes what it took and commits), then leaves the group. Idempotent.
   */
  async stop(drain?: () => Promise<void>): Promise<void> {
    if (this.stoppingNow) return;
    this.stoppingNow = true;
    this.phaseNow = 'stopped';
    clearInterval(this.watchdog);
    this.clearPauseTimers();
    this.wakeUp?.();
    await this.replacing;
    const c = this.consumer;
    try {
      c?.pause(this.options.topics.map((topic) => ({ topic })));
    } catch {
      // not running (never started, or being replaced)
    }
    try {
      await drain?.();
    } finally {
      this.consumer = undefined;
      this.generation++;
      await c?.disconnect();
    }
  }

  private touch(): void {
    this.lastActivityMs = this.clock.now();
  }

  private startWatchdog(): void {
    const { stallMs } = this.options;
    if (stallMs === undefined || this.watchdog !== undefined || this.stoppingNow) return;
    this.watchdog = setInterval(() => this.checkStall(), Math.max(100, Math.min(5_000, Math.floor(stallMs / 4))));
    this.watchdog.unref();
  }

  /** Ends every pauseFor now; returns how many partitions were paused. */
  resumePaused(): number {
    const paused = this.pauseTimers.size;
    for (const [timer, resume] of this.pauseTimers) {
      clearTimeout(timer);
      resume();
    }
    this.pauseTimers.clear();
    return paused;
  }

  private clearPauseTimers(): void {
    for (const t of this.pauseTimers.keys()) clearTimeout(t);
    this.pauseTimers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private context(payload: EachBatchPayload, c: Consumer): BatchContext {
    const { batch } = payload;
    return {
      stopping: this.isStopping,
      commit: async (offset) => {
        payload.resolveOffset(offset);
        await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
        this.touch();
      },
      pauseFor: (ms) => {
        const resume = payload.pause();
        const timer = setTimeout(() => {
          this.pauseTimers.delete(timer);
          resume();
        }, ms);
        this.pauseTimers.set(timer, resume);
      },
    };
  }

  private async eachBatch(payload: EachBatchPayload, c: Consumer): Promise<void> {
    const o = this.options;
    const { batch } = payload;
    // With a watchdog, a long batch shows life through its heartbeats.
    const p: EachBatchPayload = o.stallMs === undefined ? payload : { ...payload, heartbeat: async () => (this.touch(), payload.heartbeat()) };
    try {
      await o.eachBatch(p, this.context(p, c));
    } catch (err) {
      if (o.isFatal?.(err)) o.onFatal?.(err);
      // Anything else is a dependency failure: kafkajs retries the batch from the last commit.
      else
        o.logger.warn(
          { err, groupId: o.groupId, topic: batch.topic, partition: batch.partition },
          'batch failed; kafkajs fetches it again from the last commit',
        );
      throw err;
    }
    o.metrics?.lag.set({ group: o.groupId, topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
  }

  /** Creates, connects and runs one consumer; resolves once it joined the group. */
  private async launch(): Promise<void> {
    const o = this.options;
    const c = createConsumer(o.kafka, { groupId: o.groupId, ...o.consumer });
    const gen = ++this.generation;
    this.consumer = c;
    this.phaseNow = 'joining';
    let launched = false;
    const current = () => gen === this.generation && !this.stoppingNow;
    const touch = () => {
      if (current()) this.touch();
    };
    if (o.stallMs !== undefined) {
      for (const ev of [
        c.events.FETCH_START,
        c.events.FETCH,
        c.events.HEARTBEAT,
        c.events.START_BATCH_PROCESS,
        c.events.END_BATCH_PROCESS,
        c.events.COMMIT_OFFSETS,
      ])
        c.on(ev, touch);
    }
    c.on(c.events.GROUP_JOIN, (e) => {
      if (!current()) return;
      touch();
      this.phaseNow = 'consuming';
      const assigned = new Set<string>();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) for (const p of partitions) assigned.add(`${topic}:${p}`);
      o.onAssignment?.(assigned);
      o.logger.info(
        { groupId: o.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment, durationMs: e.payload.duration },
        'consumer joined the group',
      );
    });
    c.on(c.events.REBALANCING, () => {
      if (!current()) return;
      touch();
      o.logger.warn({ groupId: o.groupId }, 'consumer group is rebalancing');
    });
    c.on(c.events.CRASH, (e) => {
      if (!current()) return;
      const { error, restart } = e.payload;
      o.metrics?.crashes.inc({ group: o.groupId, restart: String(restart) });
      if (o.isFatal?.(error)) {
        o.logger.fatal({ err: error, groupId: o.groupId }, 'consumer crashed on a programmer error');
        o.onFatal?.(error);
        return;
      }
      if (restart) {
        // kafkajs restarts it itself; check() stays false until it has joined again.
        this.phaseNow = 'recovering';
        o.logger.error({ err: error, groupId: o.groupId }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      o.logger.error({ err: error, groupId: o.groupId }, 'consumer crashed and kafkajs gave up on it; replacing it');
      this.phaseNow = 'crashed';
      // During launch() the crash fails the launch instead (its caller retries).
      if (launched) void this.replace('crash');
    });
    const fail = async () => {
      if (gen === this.generation) {
        this.generation++;
        this.consumer = undefined;
      }
      await c.disconnect().catch(() => undefined);
    };
    try {
      await c.connect();
      await c.subscribe({ topics: [...o.topics], fromBeginning: o.fromBeginning ?? true });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: o.eachBatchAutoResolve ?? false,
        partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.eachBatch(payload, c),
      });
    } catch (err) {
      await fail();
      throw kafkaError(err, `start consumer ${o.groupId}`);
    }
    // run() resolves after the first join, or after a failed join went to the CRASH handler
    // (which may have changed the phase while run() was awaited).
    if ((this.phaseNow as ConsumerPhase) === 'crashed') {
      await fail();
      throw new Error(`consumer ${o.groupId} crashed while joining`);
    }
    if (this.phaseNow === 'joining') this.phaseNow = 'consuming';
    launched = true;
    this.touch();
  }

  /** Disconnects the current consumer (bounded) and launches a new one, retrying with back-off. */
  private replace(reason: 'crash' | 'stalled' | undefined): Promise<void> {
    this.replacing ??= (async () => {
      const o = this.options;
      if (reason !== undefined) o.metrics?.replacements.inc({ group: o.groupId, reason });
      this.phaseNow = 'replacing';
      const old = this.consumer;
      this.generation++;
      this.consumer = undefined;
      this.clearPauseTimers();
      if (old)
        await withTimeout(old.disconnect(), DISCONNECT_TIMEOUT_MS).catch((err: unknown) =>
          o.logger.warn({ err, groupId: o.groupId }, 'disconnecting the replaced consumer failed'),
        );
      if (reason !== undefined) o.onReplace?.();
      const policy = o.rebuildBackoff ?? { baseMs: 250, maxMs: 10_000, jitter: 'equal' };
      for (let attempt = 0; !this.stoppingNow; attempt++) {
        try {
          await this.launch();
          if (reason !== undefined) o.logger.warn({ groupId: o.groupId, reason, attempt }, 'consumer replaced');
          return;
        } catch (err) {
          const delayMs = backoffDelayMs(attempt, policy);
          this.phaseNow = 'replacing';
          o.logger.warn({ err, groupId: o.groupId, attempt, delayMs }, 'starting the consumer failed; retrying');
          await this.sleep(delayMs);
        }
      }
    })().finally(() => {
      this.replacing = undefined;
    });
    return this.replacing;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
