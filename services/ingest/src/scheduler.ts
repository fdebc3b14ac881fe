import type { Logger } from 'pino';
import { backoffDelayMs } from '@wa/shared/backoff';
import { isProgrammerError, isStalled } from './domain/retry';
import type { IngestMetrics } from './metrics';
import type { Pipeline } from './pipeline';
import type { Clock, HoldStore } from './ports';

export interface SchedulerDeps {
  /** Names the loop in logs, metrics and readiness (`scheduler`, `expander`). */
  name: string;
  holds: HoldStore;
  pipeline: Pipeline;
  clock: Clock;
  logger: Logger;
  metrics?: IngestMetrics;
  pollMs: number;
  leaseMs: number;
  batch?: number;
  expander?: boolean;
  /** Backoff after failed polls (Kafka or Redis away): base, doubling, capped, full jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A poll that neither finishes nor reports progress for this long counts as stalled. */
  stallMs: number;
  /** A programmer error: the caller makes the process exit 1. */
  onFatal: (err: unknown) => void;
}

/**
 * Releases held work when it is due: requests with a future not-before, marketing held for quiet
 * hours, coalescing buffers whose window closed, and (as the expander) broadcasts to expand. Items
 * are leased, so several replicas can poll the same store and a replica dying mid-item only delays
 * it by one lease. A poll that fails (Kafka or Redis away) hands its item back at once, due after
 * the backoff, so a broadcast resumes from its checkpoint as soon as Kafka answers again instead
 * of waiting out the lease. The loop never ends on an error; only `stop()` ends it.
 */
export function createScheduler(deps: SchedulerDeps) {
  const log = deps.logger.child({ worker: deps.name });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let started = false;
  let failures = 0;
  let lastError: string | undefined;
  let lastProgressMs = deps.clock.now();
  // Full jitter, never below the base: replicas that failed together do not retry together.
  const retryPolicy = { baseMs: deps.retryBaseMs, maxMs: deps.retryMaxMs, minMs: deps.retryBaseMs };

  const progressed = () => {
    lastProgressMs = deps.clock.now();
  };

  async function tick(): Promise<void> {
    progressed();
    const items = await deps.holds.takeDue(deps.clock.now(), deps.batch ?? 100, deps.leaseMs);
    for (const item of items) {
      if (stopping) return;
      let outcome: 'done' | 'interrupted';
      try {
        outcome = await deps.pipeline.processDue(
          item,
          {
            shouldStop: () => stopping,
            heartbeat: async () => {
              progressed();
              if (item.kind === 'request') await deps.holds.hold(item.member, item.held, deps.clock.now() + deps.leaseMs);
            },
            committed: async () => {},
          },
          { expander: deps.expander ?? false },
        );
      } catch (err) {
        // Hand the item back, due after the backoff; if Redis is away too, the lease brings it back.
        const dueMs = deps.clock.now() + backoffDelayMs(failures, retryPolicy);
        await deps.holds
          .release(item, dueMs)
          .catch((releaseErr: unknown) =>
            log.warn({ err: releaseErr, member: item.member }, 'could not hand a failed item back; it is retried when its lease ends'),
          );
        throw err;
      }
      progressed();
      if (outcome === 'done') await deps.holds.ack(item, deps.clock.now());
      // Stopped mid-way (shutdown): hand the item back now rather than after the lease.
      else await deps.holds.release(item, deps.clock.now());
    }
    deps.metrics?.held.set(await deps.holds.pending());
  }

  function schedule(delayMs: number): void {
    if (stopping) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = tick().then(
        () => {
          if (failures > 0) log.info({ failures }, 'held work polling recovered');
          failures = 0;
          lastError = undefined;
          schedule(deps.pollMs);
        },
        (err: unknown) => {
          if (isProgrammerError(err)) {
            log.fatal({ err }, 'held work polling hit a programmer error');
            deps.onFatal(err);
            return;
          }
          failures++;
          lastError = err instanceof Error ? err.message : String(err);
          deps.metrics?.workerFailures.inc({ worker: deps.name });
          const retryInMs = backoffDelayMs(failures - 1, retryPolicy);
          log.error({ err, failures, retryInMs }, 'releasing held work failed; retrying');
          schedule(retryInMs);
        },
      );
    }, delayMs);
  }

  return {
    start(): void {
      started = true;
      schedule(deps.pollMs);
    },
    /** Runs one poll now (tests and the demo use it to avoid waiting for the timer). */
    tick,
    /** For readiness: rejects while polls fail, when a poll stalls, or when the loop is not alive. */
    async check(): Promise<void> {
      if (!started || stopping) throw new Error(`${deps.name} not running`);
      if (failures > 0) throw new Error(`${deps.name} failing (${failures} in a row): ${lastError ?? ''}`);
      if (timer === undefined && isStalled(lastProgressMs, deps.clock.now(), deps.stallMs)) {
        throw new Error(`${deps.name} made no progress for ${deps.clock.now() - lastProgressMs} ms`);
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
