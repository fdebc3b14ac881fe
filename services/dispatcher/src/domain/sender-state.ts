/**
 * Where a sender's pacing facts come from. The webhook service stores a phone number's state twice:
 * by id when it knows it, and by display number (Meta's phone_number_quality_update names a number
 * only by its display number); the Graph API poll stores it by id. Per value, the newest wins.
 */

export type StateSource = 'catalogue' | 'webhook' | 'graph_api';

export interface Sourced<T> {
  value: T;
  source: StateSource;
  /** When the source reported it (ISO); absent for the catalogue. */
  at?: string;
  /** Meta's event name, for webhook values (THROUGHPUT_UPGRADE, FLAGGED, …). */
  event?: string;
}

export interface PhoneState {
  throughputMps: Sourced<number>;
  quality?: Sourced<string>;
}

type Stored = Record<string, unknown>;

const sourceOf = (v: unknown, fallback: unknown): StateSource => {
  const s = typeof v === 'string' ? v : fallback;
  return s === 'graph_api' ? 'graph_api' : 'webhook';
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function throughputOf(s: Stored): Sourced<number> | undefined {
  if (typeof s.throughputMps !== 'number' || !(s.throughputMps > 0)) return undefined;
  const at = str(s.throughputAt) ?? str(s.updatedAt);
  const out: Sourced<number> = { value: s.throughputMps, source: sourceOf(s.throughputSource, s.source) };
  if (at !== undefined) out.at = at;
  if (str(s.event) !== undefined && s.throughputSource === undefined) out.event = str(s.event);
  return out;
}

function qualityOf(s: Stored): Sourced<string> | undefined {
  const q = str(s.quality);
  if (q === undefined || q === 'UNKNOWN') return undefined;
  const at = str(s.qualityAt) ?? str(s.updatedAt);
  const out: Sourced<string> = { value: q, source: sourceOf(s.qualitySource, s.source) };
  if (at !== undefined) out.at = at;
  if (str(s.event) !== undefined && s.qualitySource === undefined) out.event = str(s.event);
  return out;
}

function newest<T>(candidates: (Sourced<T> | undefined)[]): Sourced<T> | undefined {
  let best: Sourced<T> | undefined;
  for (const c of candidates) {
    if (c === undefined) continue;
    if (best === undefined || (c.at ?? '') > (best.at ?? '')) best = c;
  }
  return best;
}

/** A number's pacing state from its stored records (by id, by display number), over the catalogue's default. */
export function mergePhoneState(catalogueMps: number, stored: readonly (Stored | undefined)[]): PhoneState {
  const records = stored.filter((s): s is Stored => s !== undefined);
  const throughput = newest(records.map(throughputOf)) ?? { value: catalogueMps, source: 'catalogue' as const };
  const quality = newest(records.map(qualityOf));
  return quality === undefined ? { throughputMps: throughput } : { throughputMps: throughput, quality };
}

/**
 * The rate to pace a number at: Meta's figure for it, never above the operator's ceiling
 * (`maxThroughputMps` in the catalogue). Meta knows only 20, 80 and 1,000 msg/s, so a deployment
 * that wants, say, 250 from a higher-throughput number sets the ceiling, not the throughput.
 */
export function cappedThroughput(metaMps: number, ceilingMps: number | undefined): number {
  return ceilingMps === undefined ? metaMps : Math.min(metaMps, ceilingMps);
}
