import { classifyMetaError, type MetaErrorClass } from '@wa/shared/meta-errors';

/** What happened to one Graph API call, as the HTTP adapter reports it. */
export type SendResult =
  | {
      kind: 'accepted';
      wamid: string;
      httpStatus: number;
      /** Meta's `message_status`: accepted, held_for_quality_assessment or paused (template pacing). */
      messageStatus?: string;
    }
  | {
      kind: 'error';
      httpStatus?: number;
      code?: number;
      message: string;
      /**
       * Whether Meta may have acted on the request: `no` when it answered with an error or we never
       * connected; `maybe` when the request left and no answer came back (timeout, reset).
       */
      mayHaveSent: boolean;
      retryAfterMs?: number;
    };

/** Throttle codes that mean "this number (or app/account) is going too fast", as opposed to one recipient. */
const SENDER_THROTTLE_CODES: ReadonlySet<number> = new Set([4, 80007, 130429, 131048]);
export const PAIR_RATE_CODE = 131056;

export type OutcomeDecision =
  | { action: 'sent'; wamid: string; messageStatus?: string }
  | { action: 'retry'; errorClass: MetaErrorClass | 'network'; code?: number; slowSender: boolean; minDelayMs: number; detail: string }
  | { action: 'dead-letter'; errorClass: MetaErrorClass; code?: number; reason: 'permanent_error' | 'fix_request_error'; detail: string }
  | { action: 'pause-account'; errorClass: 'auth'; code?: number; detail: string }
  | { action: 'unknown'; detail: string };

export interface OutcomeOptions {
  unknownOutcomePolicy: 'record_unknown' | 'resend';
  pairIntervalMs: number;
}

/** Turns a send result into what the dispatcher does next. Pure, table-driven through the shared Meta error classification. */
export function decideOutcome(result: SendResult, options: OutcomeOptions): OutcomeDecision {
  if (result.kind === 'accepted')
    return result.messageStatus !== undefined
      ? { action: 'sent', wamid: result.wamid, messageStatus: result.messageStatus }
      : { action: 'sent', wamid: result.wamid };
  if (result.mayHaveSent) {
    // Meta has no idempotency key: resending after an unanswered request can deliver twice.
    if (options.unknownOutcomePolicy === 'record_unknown') return { action: 'unknown', detail: result.message };
    return { action: 'retry', errorClass: 'network', slowSender: false, minDelayMs: result.retryAfterMs ?? 0, detail: result.message };
  }
  if (result.code === undefined && result.httpStatus === undefined) {
    return { action: 'retry', errorClass: 'network', slowSender: false, minDelayMs: 0, detail: result.message };
  }
  const c = classifyMetaError(result.code, result.httpStatus);
  const detail = `${c.code ?? `HTTP ${result.httpStatus}`} ${c.title}: ${result.message}`.slice(0, 2000);
  const code = c.code ?? undefined;
  switch (c.errorClass) {
    case 'transient':
      return { action: 'retry', errorClass: 'transient', code, slowSender: false, minDelayMs: result.retryAfterMs ?? 0, detail };
    case 'throttle': {
      const pair = code === PAIR_RATE_CODE;
      return {
        action: 'retry',
        errorClass: 'throttle',
        code,
        slowSender: !pair && (code === undefined || SENDER_THROTTLE_CODES.has(code)),
        minDelayMs: Math.max(result.retryAfterMs ?? 0, pair ? options.pairIntervalMs : 1_000),
        detail,
      };
    }
    case 'permanent':
      return { action: 'dead-letter', errorClass: 'permanent', code, reason: 'permanent_error', detail };
    case 'fix_request':
      return { action: 'dead-letter', errorClass: 'fix_request', code, reason: 'fix_request_error', detail };
    case 'auth':
      return { action: 'pause-account', errorClass: 'auth', code, detail };
  }
}
