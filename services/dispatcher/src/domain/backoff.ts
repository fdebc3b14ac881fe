import { backoffDelayMs } from '@wa/shared/backoff';

/**
 * Retry timing: the shared exponential back-off with full jitter, then the delayed retry topic
 * that holds a record for that long. Pure: the caller injects the random source.
 */

export interface BackoffOptions {
  baseMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

export interface Tier {
  readonly delayMs: number;
}

/**
 * The retry tier for a delay: the largest tier whose delay is not above it (the record then waits
 * in that topic until its `retryAt`), or the smallest tier for shorter delays.
 */
export function tierIndexForDelay(delayMs: number, tiers: readonly Tier[]): number {
  let chosen = 0;
  tiers.forEach((tier, i) => {
    if (tier.delayMs <= delayMs) chosen = i;
  });
  return chosen;
}

export type RetryDecision = { retry: true; delayMs: number; nextAttempt: number } | { retry: false; reason: 'retries_exhausted' };

/** Whether a failed attempt may be retried, and after how long (a server's Retry-After wins when longer). */
export function decideRetry(attempt: number, options: BackoffOptions, random: () => number, minDelayMs = 0): RetryDecision {
  const nextAttempt = attempt + 1;
  if (nextAttempt >= options.maxAttempts) return { retry: false, reason: 'retries_exhausted' };
  return { retry: true, delayMs: Math.max(minDelayMs, backoffDelayMs(attempt, { baseMs: options.baseMs, maxMs: options.maxDelayMs }, random)), nextAttempt };
}
