import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths redacted in every log line: credentials, signatures and full phone numbers. */
export const REDACT_PATHS = [
  'accessToken',
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-api-token"]',
  'req.headers["x-admin-token"]',
  'signature',
  'appSecret',
  'secret',
  'password',
  'to',
  'phone',
  'recipient',
  'recipientId',
  'from',
  'waId',
  'wa_id',
  '*.accessToken',
  '*.token',
  '*.appSecret',
  '*.secret',
  '*.to',
  '*.from',
  '*.recipientId',
  '*.waId',
  '*.wa_id',
];

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
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
