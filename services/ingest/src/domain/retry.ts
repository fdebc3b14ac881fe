/**
 * Delay before retry number `attempt` (1 = first retry): exponential from `baseMs`, capped at
 * `maxMs`, with full jitter so replicas that failed together do not retry together.
 * `random` is injected (Math.random in production, fixed in tests).
 */
export function backoffDelayMs(attempt: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(options.baseMs, Math.round(exp * random()));
}

/**
 * True when nothing happened for longer than `stallMs` while work was expected to happen:
 * the watchdog's rule for a loop that neither progressed nor failed (a silent hang).
 */
export function isStalled(lastActivityMs: number, nowMs: number, stallMs: number): boolean {
  return nowMs - lastActivityMs > stallMs;
}

const PROGRAMMER_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/**
 * A bug (ours or a library's), not a dependency failure: the process should exit 1 rather than
 * retry. Looks through wrappers (kafkajs' retry errors keep the original as `cause`); an AppError
 * anywhere in the chain means an adapter already classified it as a dependency failure.
 */
export function isProgrammerError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === 'AppError') return false;
    if (PROGRAMMER_ERRORS.has(e.name)) return true;
  }
  return false;
}
