/**
 * Exponential back-off, the one formula every retry loop in the project uses: the ceiling grows
 * from `baseMs` by `factor` per retry up to `maxMs`, and jitter spreads replicas that failed
 * together ("Exponential Backoff and Jitter", AWS Architecture Blog). Pure: `random` is injected.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** Largest ceiling. */
  maxMs: number;
  /** Growth of the ceiling per retry (default 2). */
  factor?: number;
  /**
   * - `full` (default): uniform in [0, ceiling) — the AWS post's best spread;
   * - `equal`: uniform in [ceiling/2, ceiling) — never much shorter than the ceiling;
   * - `none`: the ceiling itself (deterministic, e.g. in simulated time).
   */
  jitter?: 'full' | 'equal' | 'none';
  /** Floor of the delay after jitter (default 0). */
  minMs?: number;
}

/** Delay in whole ms before retry number `retry` (0 = the first retry after the first failure). */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * (policy.factor ?? 2) ** Math.min(Math.max(0, retry), 64));
  const jitter = policy.jitter ?? 'full';
  const delay = jitter === 'none' ? ceiling : jitter === 'equal' ? ceiling * (0.5 + random() / 2) : ceiling * random();
  return Math.max(policy.minMs ?? 0, Math.floor(delay));
}
