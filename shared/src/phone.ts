import { createHmac } from 'node:crypto';
import { parsePhoneNumberFromString, PhoneNumber } from 'libphonenumber-js/max';
import { PhoneNumber as MobilePhoneNumber } from 'libphonenumber-js/mobile';
import metadata from 'libphonenumber-js/metadata.max.json';

export type PhoneResult = { ok: true; waId: string; country: string } | { ok: false; reason: string };

/**
 * Normalises a phone number to the E.164 digits Meta expects in `to` (no "+"). Numbers without
 * a "+" are read as international unless a default country is given.
 */
export function normalisePhone(input: string, defaultCountry?: string): PhoneResult {
  const trimmed = input.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'empty phone number' };
  const candidate = trimmed.startsWith('+') || defaultCountry ? trimmed : `+${trimmed.replace(/^00/, '')}`;
  if (defaultCountry === undefined) {
    // The parse reads a spaced, dashed or bracketed number as its "+" and digits, so those get the fast path too.
    const fast = validE164(candidate) ?? (FORMATTED_E164.test(candidate) ? validE164(candidate.replace(SEPARATORS, '')) : undefined);
    if (fast) return fast;
  }
  if (/[a-z]/i.test(trimmed)) return { ok: false, reason: 'phone number contains letters' };
  const parsed = parsePhoneNumberFromString(candidate, defaultCountry as never);
  if (!parsed) return { ok: false, reason: 'not a phone number' };
  if (!parsed.isValid()) return { ok: false, reason: `not a valid number for ${parsed.country ?? 'its country code'}` };
  return { ok: true, waId: parsed.number.slice(1), country: parsed.country ?? 'ZZ' };
}

// Fast path for a number already written as "+" and digits (what upstream systems mostly send). It
// uses only the library's declared API: the calling-code table of the metadata (MetadataJson's
// `country_calling_codes`) and PhoneNumber's E.164 constructor, skipping the parse of the text
// (extraction, extension and national-prefix handling). It answers only when the library's parse
// is certain to give "valid, country X, these digits":
//  - the calling code is the first 1–3 digit prefix the metadata knows (as the library picks it);
//  - that calling code belongs to exactly one country (shared codes such as +1, +7, +44 and the
//    non-geographic ones go the slow way: the library picks the country by the number);
//  - the number is valid as written. The parse strips a trunk prefix written after the calling
//    code ("+49 0151…") only when the digits as written do not fit the plan, so a number valid as
//    written parses to itself (8-800 numbers in LT and BY begin with their trunk prefix and stay).
//    Invalid numbers go the slow way, for the library's own reason text.
// Validity is asked of the mobile-only metadata first: the same national pattern and a short mobile
// pattern instead of the full plan's long fixed-line one, which isValid() tests first (the library
// compiles each pattern on every call: 2 µs instead of 4 for a German mobile). A number of type
// MOBILE there matches the full plan's mobile (or, where that is "same as fixed line", fixed-line)
// pattern, so the full plan calls it valid; anything else is asked of the full plan.
// shared/test/phone-fastpath.test.ts compares both paths over every country's example numbers,
// their neighbours, the examples with a trunk prefix written in, every first two digits of each
// example, and random numbers.
const E164_TEXT = /^\+[1-9]\d{6,16}$/;
/** "+", digits and the separators people write; short enough that the parse's input-length limit never applies. */
const FORMATTED_E164 = /^\+[\d ().-]{6,40}$/;
const SEPARATORS = /[ ().-]/g;
const callingCodes: Readonly<Record<string, readonly string[] | undefined>> = metadata.country_calling_codes;

/** The one country of the calling code `text` ("+" and digits) begins with, or undefined (shared, non-geographic, none). */
function soleCountry(text: string): string | undefined {
  if (!E164_TEXT.test(text)) return undefined;
  for (let end = 2; end <= 4; end++) {
    const countries = callingCodes[text.slice(1, end)];
    if (!countries) continue;
    if (countries.length !== 1 || countries[0] === '001') return undefined;
    const nationalLength = text.length - end;
    // The lengths of a national number the parse accepts (MIN/MAX_LENGTH_FOR_NSN).
    return nationalLength >= 2 && nationalLength <= 17 ? countries[0] : undefined;
  }
  return undefined;
}

/** `{ ok: true, … }` when `text` ("+" and digits) is certainly a valid number; undefined: ask the library. */
export function validE164(text: string): PhoneResult | undefined {
  const country = soleCountry(text);
  if (!country) return undefined;
  const valid = new MobilePhoneNumber(text).getType() === 'MOBILE' || new PhoneNumber(text).isValid();
  return valid ? { ok: true, waId: text.slice(1), country } : undefined;
}

/** ISO country of an E.164 number (digits, with or without "+"); "ZZ" when it cannot be told. */
export function countryOfPhone(waId: string): string {
  const e164 = waId.startsWith('+') ? waId : `+${waId}`;
  // A calling code of one country is that country whatever the rest (pinned in phone-fastpath.test.ts).
  return soleCountry(e164) ?? parsePhoneNumberFromString(e164)?.country ?? 'ZZ';
}

/**
 * A keyed hash (HMAC-SHA256, 132 bits kept) that identifies a recipient across events without storing the
 * number. A plain hash of a phone number is reversed by enumerating the number space; without the key
 * (RECIPIENT_HASH_SALT, at least 32 random bytes) it is not.
 */
export function hashRecipient(waId: string, key: string): string {
  return createHmac('sha256', key).update(waId).digest('base64url').slice(0, 22);
}
