import { counterSum } from '../../tools/stack/src/prom-text';

/** Seconds a service has spent in garbage-collection pauses so far, from its /metrics (prom-client's default GC histogram). */
export interface GcPauses {
  /** Scavenges of the young generation. */
  minor: number;
  /** Every kind: minor, major (mark-compact), incremental marking steps, weak callbacks. */
  all: number;
}

const SUM = 'wa_process_nodejs_gc_duration_seconds_sum';

/** The /metrics text of each service; a service that does not answer reads null. */
export async function scrapeMetrics(metricsUrls: Record<string, string>): Promise<Record<string, string | null>> {
  const entries = await Promise.all(
    Object.entries(metricsUrls).map(async ([name, url]): Promise<[string, string | null]> => {
      try {
        return [name, await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text()];
      } catch {
        return [name, null];
      }
    }),
  );
  return Object.fromEntries(entries);
}

function gcPausesOf(metricsText: string): GcPauses {
  return { minor: counterSum(metricsText, SUM, 'kind="minor"'), all: counterSum(metricsText, SUM) };
}

/**
 * GC pause time per unit of work between two scrapes, in ms (wall-clock pauses of the main thread, so on a saturated
 * machine they include time the thread waited for a core): where young-generation churn shows without tracing flags.
 */
export function gcPauseMsPer(before: Record<string, string | null>, after: Record<string, string | null>, units: number): Record<string, GcPauses | null> {
  const per = (s: number) => Math.round(((s * 1000) / units) * 1000) / 1000;
  return Object.fromEntries(
    Object.keys(after).map((name) => {
      const [b, a] = [before[name], after[name]];
      if (!a || !b || units <= 0) return [name, null];
      const [gb, ga] = [gcPausesOf(b), gcPausesOf(a)];
      return [name, { minor: per(ga.minor - gb.minor), all: per(ga.all - gb.all) }];
    }),
  );
}
