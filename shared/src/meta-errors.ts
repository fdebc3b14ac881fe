import { META_ERROR_CODES, type MetaErrorCodeRow } from './meta-error-codes';

/** Meta's documented actions, from cloud-api-errors.json. */
export type MetaErrorAction = 'retry' | 'throttle' | 'permanent' | 'fix_request' | 'auth';

/**
 * The error classes the dispatcher acts on:
 * - transient: retry with exponential backoff;
 * - throttle: slow the sender down, then retry;
 * - permanent: never retry this message;
 * - fix_request: our request was wrong, never retry as is;
 * - auth: stop the business account's sending and alert.
 */
export type MetaErrorClass = 'transient' | 'throttle' | 'permanent' | 'fix_request' | 'auth';

const BY_CODE: ReadonlyMap<number, MetaErrorCodeRow> = new Map(META_ERROR_CODES.map((row) => [row.code, row]));

const CLASS_BY_ACTION: Readonly<Record<MetaErrorAction, MetaErrorClass>> = {
  retry: 'transient',
  throttle: 'throttle',
  permanent: 'permanent',
  fix_request: 'fix_request',
  auth: 'auth',
};

export interface MetaErrorClassification {
  readonly errorClass: MetaErrorClass;
  readonly code: number | null;
  readonly title: string;
  /** True when the code is not in Meta's table and the class was inferred from the HTTP status. */
  readonly inferred: boolean;
}

/**
 * Classifies a failed Graph API call. Known codes follow Meta's table; unknown codes fall back
 * on the HTTP status (5xx and 429 are transient/throttle, other 4xx permanent); the 200–299
 * range of Graph permission codes is an auth problem.
 */
export function classifyMetaError(code: number | null | undefined, httpStatus?: number): MetaErrorClassification {
  if (code !== null && code !== undefined) {
    const row = BY_CODE.get(code);
    if (row) return { errorClass: CLASS_BY_ACTION[row.action], code, title: row.title, inferred: false };
    if (code >= 200 && code <= 299) return { errorClass: 'auth', code, title: 'Permission error', inferred: true };
  }
  const inferred = { code: code ?? null, inferred: true } as const;
  if (httpStatus === undefined || httpStatus >= 500) return { ...inferred, errorClass: 'transient', title: 'Server or network error' };
  if (httpStatus === 429) return { ...inferred, errorClass: 'throttle', title: 'Too many requests' };
  if (httpStatus === 401 || httpStatus === 403) return { ...inferred, errorClass: 'auth', title: 'Not authorised' };
  return { ...inferred, errorClass: 'permanent', title: 'Unrecognised client error' };
}

export function metaErrorTitle(code: number): string | undefined {
  return BY_CODE.get(code)?.title;
}
