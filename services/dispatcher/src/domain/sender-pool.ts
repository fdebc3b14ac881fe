import { createHash } from 'node:crypto';

/**
 * Sticky sender choice for a pool: rendezvous (highest-random-weight) hashing of the recipient over
 * the pool's numbers. A person always hears from the same number (their chat thread and service
 * window live there), and removing one number only moves the recipients that were on it.
 */
export function pickSender(pool: readonly string[], recipient: string, available: (id: string) => boolean = () => true): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const id of pool) {
    if (!available(id)) continue;
    const score = createHash('sha1').update(id).update('\u0000').update(recipient).digest().readBigUInt64BE(0);
    if (score > bestScore) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}
