/** What a caller must do with a failure: retry later, dead-letter the record, or crash the process. */
export type Disposition = 'retry' | 'dead-letter' | 'crash';

/**
 * The one error type of the system: a stable `code`, a disposition and an optional delay. Adapters
 * wrap every library error into it at the boundary, so domain code and consumers never inspect
 * library-specific errors.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: string,
    message: string,
    readonly disposition: Disposition,
    readonly options: { retryAfterMs?: number; cause?: unknown; httpStatus?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
  }
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
  get httpStatus(): number | undefined {
    return this.options.httpStatus;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Wraps anything thrown into an AppError; unknown errors are retryable, per the house rule. */
export function toAppError(err: unknown, code = 'unexpected'): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(code, message, 'retry', { cause: err });
}
