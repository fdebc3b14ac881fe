import { randomBytes } from 'node:crypto';
import { META_ERROR_CODES } from '@wa/shared/meta-error-codes';

const TITLES = new Map<number, string>(META_ERROR_CODES.map((r) => [r.code, r.title]));

/** Graph API error as the simulator answers it (HTTP status + Meta's envelope fields). */
export interface GraphError {
  readonly httpStatus: number;
  readonly code: number;
  readonly message: string;
  readonly details: string;
  readonly subcode?: number;
  readonly type?: string;
}

/**
 * HTTP status per code. Graph answers most errors with 400 and OAuthException; invalid tokens
 * with 401; throughput and pair-rate throttles with 429 (the status Meta tells clients to back
 * off on); its own failures with 5xx.
 */
function httpStatusFor(code: number): number {
  if (code === 190 || code === 0) return 401;
  // Meta's error-code table: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
  if (code === 10 || code === 368 || code === 131031 || code === 131005 || (code >= 200 && code <= 299)) return 403;
  if (code === 130429 || code === 131056 || code === 131048 || code === 4 || code === 80007) return 429;
  if (code === 131000 || code === 1 || code === 3) return 500;
  if (code === 2 || code === 131016 || code === 133004) return 503;
  return 400;
}

const DETAILS: Record<number, string> = {
  130429: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
  130472: 'Message was not sent as part of an experiment',
  131000: 'Message failed to send due to an unknown error',
  131026: 'Message Undeliverable.',
  131047: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  131048:
    'Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.',
  131049: 'This message was not delivered to maintain healthy ecosystem engagement.',
  131050: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
  131056: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time',
  132000: 'Number of parameters does not match the expected number of params',
  132001: 'template name does not exist in the translation',
  132015: 'Template is paused due to low quality so it cannot be sent in a template message',
  132016: 'Template has been paused too many times due to low quality and is now permanently disabled',
};

export function titleOf(code: number): string {
  return TITLES.get(code) ?? 'Unknown error';
}

export function graphError(code: number, details?: string, extra: { subcode?: number; message?: string; httpStatus?: number } = {}): GraphError {
  return {
    httpStatus: extra.httpStatus ?? httpStatusFor(code),
    code,
    message: extra.message ?? `(#${code}) ${titleOf(code)}`,
    details: details ?? DETAILS[code] ?? titleOf(code),
    ...(extra.subcode !== undefined ? { subcode: extra.subcode } : {}),
  };
}

export function defaultDetails(code: number): string {
  return DETAILS[code] ?? titleOf(code);
}

export function fbtraceId(): string {
  return 'A' + randomBytes(15).toString('base64').replace(/[+/=]/g, '').slice(0, 22);
}

/** Meta's error envelope: `{error:{message,type,code,error_subcode?,error_data,fbtrace_id}}`. */
export function errorEnvelope(e: GraphError): Record<string, unknown> {
  const error: Record<string, unknown> = { message: e.message, type: e.type ?? 'OAuthException', code: e.code };
  if (e.subcode !== undefined) error.error_subcode = e.subcode;
  if (e.code !== 190) error.error_data = { messaging_product: 'whatsapp', details: e.details };
  error.fbtrace_id = fbtraceId();
  return { error };
}

export const AUTH_INVALID = (): GraphError => ({
  httpStatus: 401,
  code: 190,
  message: 'Invalid OAuth access token - Cannot parse access token',
  details: 'Invalid OAuth access token',
});

export const AUTH_MISSING = (): GraphError => ({
  httpStatus: 401,
  code: 190,
  message: 'An active access token must be used to query information about the current user.',
  details: 'Missing access token',
});

/** What Graph says when the object is unknown or the token may not see it (it does not tell which). */
export const UNKNOWN_OBJECT = (id: string): GraphError => ({
  httpStatus: 400,
  code: 100,
  subcode: 33,
  message: `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  details: 'Object does not exist or is not accessible',
  type: 'GraphMethodException',
});
