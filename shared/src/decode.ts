import type { z } from 'zod';
import type { DeadLetterReason } from './contracts/dead-letter';

export type DecodeResult<T> =
  { ok: true; value: T } | { ok: false; reason: Extract<DeadLetterReason, 'invalid_json' | 'schema_violation' | 'record_too_large'>; detail: string };

/** Turns zod issues into one readable line per field: `recipients.3.to: must be …`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

/**
 * Decodes a record value. Never throws: a consumer turns a failure into a DLQ record and moves on,
 * so one bad record never stalls a partition.
 */
export function decodeJson<S extends z.ZodType>(schema: S, bytes: Buffer | null, maxBytes = 1_048_576): DecodeResult<z.output<S>> {
  if (bytes === null || bytes.length === 0) return { ok: false, reason: 'invalid_json', detail: 'empty record value' };
  if (bytes.length > maxBytes) {
    return { ok: false, reason: 'record_too_large', detail: `record is ${bytes.length} bytes; the limit is ${maxBytes}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid_json', detail: `not valid JSON: ${(err as Error).message}` };
  }
  const result = schema.safeParse(parsed);
  if (!result.success) return { ok: false, reason: 'schema_violation', detail: formatIssues(result.error) };
  return { ok: true, value: result.data };
}

/** Serialises a value after validating it against its topic schema, so producers cannot emit off-contract records. */
export function encodeJson<S extends z.ZodType>(schema: S, value: z.input<S>): Buffer {
  return Buffer.from(encodeJsonText(schema, value));
}

/** encodeJson as a string, for producers that hand kafkajs strings (it writes them straight into the record). */
export function encodeJsonText<S extends z.ZodType>(schema: S, value: z.input<S>): string {
  return JSON.stringify(schema.parse(value));
}
