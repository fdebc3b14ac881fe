/**
 * Delivery status of one message as a forward-only state machine. Meta delivers statuses out of
 * order, twice, skips `delivered` when a message is read at once, and may send `delivered` after
 * `failed`. Folding events with `applyStatus` gives the same state whatever their order, because
 * the state is a join over (attempt, rank): a later attempt starts afresh, within one attempt the
 * highest rank wins. The same ranks are written into ClickHouse (`status_events.rank`) and folded
 * with `max`, so the database and this module cannot disagree.
 */
export type TrackedStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** sent < delivered < read < failed; failed is terminal for its attempt. */
export const STATUS_RANK: Readonly<Record<TrackedStatus, number>> = Object.freeze({ sent: 1, delivered: 2, read: 3, failed: 4 });

const BY_RANK: readonly (TrackedStatus | 'none')[] = ['none', 'sent', 'delivered', 'read', 'failed'];

/** Rank of a status from Meta; statuses that carry no delivery progress (`deleted`, `warning`) rank 0. */
export function statusRank(status: string): number {
  return (STATUS_RANK as Record<string, number>)[status] ?? 0;
}

export function statusOfRank(rank: number): TrackedStatus | 'none' {
  return BY_RANK[rank] ?? 'none';
}

export interface MessageState {
  attempt: number;
  rank: number;
  /** First time (ms) each status was seen for the current attempt; a skipped `delivered` is implied by `read`. */
  firstAt: Partial<Record<TrackedStatus, number>>;
}

export interface StatusInput {
  status: string;
  atMs: number;
  attempt?: number;
}

export const INITIAL_STATE: MessageState = Object.freeze({ attempt: 0, rank: 0, firstAt: Object.freeze({}) }) as MessageState;

/** Folds one status event into a state. Pure; returns the same object when nothing changed. */
export function applyStatus(state: MessageState, input: StatusInput): MessageState {
  const rank = statusRank(input.status);
  if (rank === 0) return state;
  const attempt = input.attempt ?? state.attempt;
  if (attempt < state.attempt) return state;
  const base: MessageState = attempt > state.attempt ? { attempt, rank: 0, firstAt: {} } : state;
  const status = input.status as TrackedStatus;
  const prevAt = base.firstAt[status];
  const firstAt = prevAt === undefined || input.atMs < prevAt ? withFirstAt(base.firstAt, status, input.atMs) : base.firstAt;
  const nextRank = Math.max(base.rank, rank);
  if (nextRank === base.rank && firstAt === base.firstAt && base === state) return state;
  return { attempt, rank: nextRank, firstAt };
}

/** A copy with one time set; a plain copy loop, because a spread with a computed key is slow in V8. */
function withFirstAt(firstAt: MessageState['firstAt'], status: TrackedStatus, atMs: number): MessageState['firstAt'] {
  const next: MessageState['firstAt'] = {};
  for (const key in firstAt) next[key as TrackedStatus] = firstAt[key as TrackedStatus];
  next[status] = atMs;
  return next;
}

/** The visible status: `failed` wins over everything in its attempt; `read` implies delivered. */
export function currentStatus(state: MessageState): TrackedStatus | 'none' {
  return statusOfRank(state.rank);
}

/** True when the message reached the person (delivered or read) and did not end failed. */
export function isDelivered(state: MessageState): boolean {
  return state.rank === STATUS_RANK.delivered || state.rank === STATUS_RANK.read;
}

/** When the message was first known to be delivered: `delivered`, or `read` when `delivered` was skipped. */
export function deliveredAtMs(state: MessageState): number | undefined {
  const d = state.firstAt.delivered;
  const r = state.firstAt.read;
  if (d === undefined) return r;
  if (r === undefined) return d;
  return Math.min(d, r);
}
