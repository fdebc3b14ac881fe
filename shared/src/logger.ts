import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line: credentials, signatures, phone numbers. */
const SENSITIVE_KEY_NAMES = [
  'accessToken',
  'token',
  'authorization',
  'signature',
  'appSecret',
  'secret',
  'password',
  'verifyToken',
  'hub.verify_token',
  'to',
  'phone',
  'recipient',
  'recipientId',
  'recipient_id',
  'recipients',
  'from',
  'waId',
  'wa_id',
] as const;
/** Request headers that carry credentials or signatures. */
const SENSITIVE_HEADERS = ['authorization', 'x-hub-signature-256', 'x-api-token', 'x-admin-token'] as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * pino's own redaction (fast, fixed paths): every sensitive key at the top level and one level
 * down, and the sensitive headers of a request. `redactDeep` below catches them at any depth.
 */
export const REDACT_PATHS = [
  ...SENSITIVE_KEY_NAMES.filter((k) => IDENTIFIER.test(k)).flatMap((k) => [k, `*.${k}`]),
  ...SENSITIVE_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`]),
];

/** Keys (any depth, any case) whose values never reach a log line. */
const SENSITIVE_KEYS = new Set([...SENSITIVE_KEY_NAMES, ...SENSITIVE_HEADERS].map((k) => k.toLowerCase()));
const VERIFY_TOKEN_IN_URL = /([?&]hub\.verify_token=)[^&#\s]*/gi;

/**
 * Redacts sensitive keys at any depth, inside arrays too (pino's paths reach one level of wildcard only), and
 * the verify token inside any string that carries a URL query. Only plain objects and arrays are walked (errors
 * keep their serializer); depth and cycles are bounded. Returns the input itself when nothing changed.
 */
export function redactDeep(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return value.includes('verify_token') ? value.replace(VERIFY_TOKEN_IN_URL, '$1[redacted]') : value;
  if (value === null || typeof value !== 'object' || depth > 8 || seen.has(value)) return value;
  const isArray = Array.isArray(value);
  if (!isArray && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  seen.add(value);
  if (isArray) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const r = redactDeep(item, depth + 1, seen);
      if (r !== item) (out ??= [...value])[i] = r;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r =
      SENSITIVE_KEYS.has(k.toLowerCase()) && v !== undefined && typeof v !== 'number' && typeof v !== 'boolean' ? '[redacted]' : redactDeep(v, depth + 1, seen);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
}

/** Masks a phone number for logs: keeps the country prefix and last two digits (`4479…12`). */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '…';
  return `${digits.slice(0, 4)}…${digits.slice(-2)}`;
}

/** The one pino root of a process; handlers take `child({ svc, topic, partition })` from it. */
export function createLogger(options: { service: string; level?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { svc: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      formatters: { level: (label) => ({ level: label }), log: (object) => redactDeep(object) as Record<string, unknown> },
    },
    options.destination,
  );
}
