import type { Logger } from 'pino';
import type { IngestMetrics } from './metrics';
import type { Pipeline } from './pipeline';
import type { Clock, HoldStore } from './ports';

/**
 * Releases held work when it is due: requests with a future not-before, marketing held for quiet
 * hours, and coalescing buffers whose window closed. Items are leased, so several replicas can
 * poll the same store and a replica dying mid-item only delays it by one lease.
 */
export function createScheduler(deps: { holds: HoldStore; pipeline: Pipeline; clock: Clock; logger: Logger; metrics?: IngestMetrics; pollMs: number; leaseMs: number; batch?: number; expander?: boolean }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;

  async function tick(): Promise<void> {
    const items = await deps.holds.takeDue(deps.clock(), deps.batch ?? 100, deps.leaseMs);
    for (const item of items) {
      if (stopping) return;
      const outcome = await deps.pipeline.processDue(item, {
        shouldStop: () => stopping,
        heartbeat: async () => {
          if (item.kind === 'request') await deps.holds.hold(item.member, item.held, deps.clock() + deps.leaseMs);
        },
        committed: async () => {},
      }, { expander: deps.expander ?? false });
      if (outcome === 'done') await deps.holds.ack(item, deps.clock());
      // Stopped mid-way (shutdown): hand the item back now rather than after the lease.
      else if (item.kind === 'request') await deps.holds.hold(item.member, item.held, deps.clock());
    }
    deps.metrics?.held.set(await deps.holds.pending());
  }

  function schedule(): void {
    if (stopping) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => deps.logger.error({ err }, 'releasing held work failed; retrying next poll'))
        .finally(schedule);
    }, deps.pollMs);
  }

  return {
    start(): void {
      schedule();
    },
    /** Runs one poll now (tests and the demo use it to avoid waiting for the timer). */
    tick,
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
