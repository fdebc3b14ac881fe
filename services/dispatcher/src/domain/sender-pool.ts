import { hash } from 'node:crypto';

/**
 * Sticky sender choice for a pool: rendezvous (highest-random-weight) hashing of the recipient over
 * the pool's numbers. A person always hears from the same number (their chat thread and service
 * window live there), and removing one number only moves the recipients that were on it.
 */
export function pickSender(pool: readonly string[], recipient: string, available: (id: string) => boolean = () => true): string | undefined {
  let best: string | undefined;
  // The score is the first 8 bytes of SHA-1(id NUL recipient), big-endian, compared as two 32-bit halves.
  let bestHigh = -1;
  let bestLow = -1;
  for (const id of pool) {
    if (!available(id)) continue;
    const digest = hash('sha1', `${id}\u0000${recipient}`, 'buffer');
    const high = digest.readUInt32BE(0);
    const low = digest.readUInt32BE(4);
    if (high > bestHigh || (high === bestHigh && low > bestLow)) {
      best = id;
      bestHigh = high;
      bestLow = low;
    }
  }
  return best;
}
