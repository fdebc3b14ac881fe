import { applyStatus, deliveredAtMs, INITIAL_STATE, isDelivered, type MessageState } from './status-machine';

interface Entry {
  requestedAtMs?: number;
  state: MessageState;
  observed: boolean;
}

/**
 * Measures request → delivered per message for the Prometheus histogram. The acceptance (from
 * `wa.messages.sent`) and the statuses arrive on different topics in any order; the first moment a
 * message is known to be both requested and delivered yields one observation, never two
 * (duplicates and replays are absorbed by the state machine). Bounded by two generations of half
 * the capacity each: when the young one fills, the old one is dropped (O(1), unlike deleting the
 * oldest key of one big Map, whose iteration slows down over deleted slots).
 */
export function createLatencyTracker(capacity = 200_000) {
  const half = Math.max(1, Math.floor(capacity / 2));
  let young = new Map<string, Entry>();
  let old = new Map<string, Entry>();

  function entry(wamid: string): Entry {
    let e = young.get(wamid);
    if (e) return e;
    e = old.get(wamid);
    if (e) old.delete(wamid);
    else e = { state: INITIAL_STATE, observed: false };
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(wamid, e);
    return e;
  }

  function maybeObserve(e: Entry): number | undefined {
    if (e.observed || e.requestedAtMs === undefined || !isDelivered(e.state)) return undefined;
    const at = deliveredAtMs(e.state);
    if (at === undefined) return undefined;
    e.observed = true;
    return Math.max(0, (at - e.requestedAtMs) / 1000);
  }

  return {
    /** The API accepted the message; returns seconds to delivery if its delivery was already seen. */
    accepted(wamid: string, requestedAtMs: number): number | undefined {
      const e = entry(wamid);
      if (e.requestedAtMs === undefined || requestedAtMs < e.requestedAtMs) e.requestedAtMs = requestedAtMs;
      return maybeObserve(e);
    },
    /** A status arrived; returns seconds from request to delivery the first time both are known. */
    status(wamid: string, status: string, atMs: number): number | undefined {
      const e = entry(wamid);
      e.state = applyStatus(e.state, { status, atMs });
      return maybeObserve(e);
    },
    get size(): number {
      return young.size + old.size;
    },
  };
}
export type LatencyTracker = ReturnType<typeof createLatencyTracker>;
