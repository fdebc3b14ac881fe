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
 * (duplicates and replays are absorbed by the state machine). Bounded: the oldest entries go first.
 */
export function createLatencyTracker(capacity = 200_000) {
  const entries = new Map<string, Entry>();

  function entry(wamid: string): Entry {
    let e = entries.get(wamid);
    if (!e) {
      if (entries.size >= capacity) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      e = { state: INITIAL_STATE, observed: false };
      entries.set(wamid, e);
    }
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
      return entries.size;
    },
  };
}
export type LatencyTracker = ReturnType<typeof createLatencyTracker>;
