import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneResult = { ok: true; waId: string; country: string } | { ok: false; reason: string };

/**
 * Normalises a phone number to the E.164 digits Meta expects in `to` (no "+"). Numbers without
 * a "+" are read as international unless a default country is given.
 */
export function normalisePhone(input: string, defaultCountry?: string): PhoneResult {
  const trimmed = input.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'empty phone number' };
  if (/[a-z]/i.test(trimmed)) return { ok: false, reason: 'phone number contains letters' };
  const candidate = trimmed.startsWith('+') || defaultCountry ? trimmed : `+${trimmed.replace(/^00/, '')}`;
  const parsed = parsePhoneNumberFromString(candidate, defaultCountry as never);
  if (!parsed) return { ok: false, reason: 'not a phone number' };
  if (!parsed.isValid()) return { ok: false, reason: `not a valid number for ${parsed.country ?? 'its country code'}` };
  return { ok: true, waId: parsed.number.slice(1), country: parsed.country ?? 'ZZ' };
}

/** ISO country of an E.164 number (digits, with or without "+"); "ZZ" when it cannot be told. */
export function countryOfPhone(waId: string): string {
  const parsed = parsePhoneNumberFromString(waId.startsWith('+') ? waId : `+${waId}`);
  return parsed?.country ?? 'ZZ';
}

/** A salted hash that identifies a recipient across events without storing the number. */
export function hashRecipient(waId: string, salt: string): string {
  return createHash('sha256').update(salt).update(':').update(waId).digest('base64url').slice(0, 22);
}
