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
