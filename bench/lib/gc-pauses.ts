import { counterSum } from '../../tools/stack/src/prom-text';

/** Seconds a service has spent in garbage-collection pauses so far, from its /metrics (prom-client's default GC histogram). */
export interface GcPauses {
  /** Scavenges of the young generation. */
  minor: number;
  /** Every kind: minor, major (mark-compact), incremental marking steps, weak callbacks. */
  all: number;
}

const SUM = 'wa_process_nodejs_gc_duration_seconds_sum';

/** Reads GC pause totals from each service's /metrics; a service that does not answer reads null. */
export async function readGcPauses(metricsUrls: Record<string, string>): Promise<Record<string, GcPauses | null>> {
  const entries = await Promise.all(
    Object.entries(metricsUrls).map(async ([name, url]): Promise<[string, GcPauses | null]> => {
      try {
        const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
        return [name, { minor: counterSum(text, SUM, 'kind="minor"'), all: counterSum(text, SUM) }];
      } catch {
        return [name, null];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * GC pause time per unit of work between two readings, in ms (wall-clock pauses of the main thread, so on a saturated
 * machine they include time the thread waited for a core): where young-generation churn shows without tracing flags.
 */
export function gcPauseMsPer(
  before: Record<string, GcPauses | null>,
  after: Record<string, GcPauses | null>,
  units: number,
): Record<string, { minor: number; all: number } | null> {
  const per = (s: number) => Math.round(((s * 1000) / units) * 1000) / 1000;
  return Object.fromEntries(
    Object.keys(after).map((name) => {
      const [b, a] = [before[name], after[name]];
      return [name, a && b && units > 0 ? { minor: per(a.minor - b.minor), all: per(a.all - b.all) } : null];
    }),
  );
}
