import { hash } from 'node:crypto';

/**
 * Sticky sender choice for a pool: rendezvous (highest-random-weight) hashing of the recipient over
 * the pool's numbers. A person always hears from the same number (their chat thread and service
 * window live there), and removing one number only moves the recipients that were on it.
 */
export function pickSender(pool: readonly string[], recipient: string, available: (id: string) => boolean = () => true): string | undefined {
  let best: string | undefined;
  // The score: the first 8 bytes of SHA-1(id NUL recipient); byte order compares them as a big-endian number.
  let bestScore: Buffer | undefined;
  for (const id of pool) {
    if (!available(id)) continue;
    const score = hash('sha1', `${id}\u0000${recipient}`, 'buffer').subarray(0, 8);
    if (bestScore === undefined || score.compare(bestScore) > 0) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}
