import { createHmac } from 'node:crypto';
import { Metadata, parsePhoneNumberFromString, type PhoneNumber } from 'libphonenumber-js/max';

export type PhoneResult = { ok: true; waId: string; country: string } | { ok: false; reason: string };

/**
 * Normalises a phone number to the E.164 digits Meta expects in `to` (no "+"). Numbers without
 * a "+" are read as international unless a default country is given.
 */
export function normalisePhone(input: string, defaultCountry?: string): PhoneResult {
  const trimmed = input.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'empty phone number' };
  if (defaultCountry === undefined) {
    const fast = validE164(trimmed);
    if (fast) return fast;
  }
  if (/[a-z]/i.test(trimmed)) return { ok: false, reason: 'phone number contains letters' };
  const candidate = trimmed.startsWith('+') || defaultCountry ? trimmed : `+${trimmed.replace(/^00/, '')}`;
  const parsed = parsePhoneNumberFromString(candidate, defaultCountry as never);
  if (!parsed) return { ok: false, reason: 'not a phone number' };
  if (!isValidNumber(parsed)) return { ok: false, reason: `not a valid number for ${parsed.country ?? 'its country code'}` };
  return { ok: true, waId: parsed.number.slice(1), country: parsed.country ?? 'ZZ' };
}

// The check PhoneNumber.isValid() makes (libphonenumber-js 1.13, isValid.js + getNumberType.js:
// the national number matches the plan's general pattern and the lengths and pattern of one
// number type), with every pattern compiled once. isValid() builds a new RegExp from the pattern
// text on each test — for a German mobile several kilobytes of pattern text per number, about half
// of the cost of a number and most of its garbage. shared/test/phone-validity.test.ts pins the
// equality with isValid() over every country's example numbers and their neighbours.
const NUMBER_TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'] as const;

/** The part of libphonenumber-js' Metadata class that isValid() reads (present at runtime, untyped in its d.ts). */
interface NumberingPlanView {
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  hasTypes(): boolean;
  nationalNumberPattern(): string;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}
const plans = new Metadata() as unknown as NumberingPlanView;
const compiledPatterns = new Map<string, RegExp>();

function matchesEntirely(text: string, pattern: string): boolean {
  let re = compiledPatterns.get(pattern);
  if (!re) compiledPatterns.set(pattern, (re = new RegExp(`^(?:${pattern})$`)));
  return re.test(text);
}

/** Same answer as `parsed.isValid()`, without recompiling the patterns. */
export function isValidNumber(parsed: PhoneNumber): boolean {
  return isValidNational(parsed.country ?? parsed.countryCallingCode, parsed.nationalNumber);
}

function isValidNational(countryOrCallingCode: string, national: string): boolean {
  plans.selectNumberingPlan(countryOrCallingCode);
  if (!plans.hasTypes()) return matchesEntirely(national, plans.nationalNumberPattern());
  if (!matchesEntirely(national, plans.nationalNumberPattern())) return false;
  for (const name of NUMBER_TYPES) {
    const type = plans.type(name);
    if (!type || !type.pattern()) continue;
    const lengths = type.possibleLengths();
    if (lengths && !lengths.includes(national.length)) continue;
    if (matchesEntirely(national, type.pattern())) return true;
  }
  return false;
}

// Fast path for a number already written as "+" and digits (what upstream systems mostly send):
// the steps parsePhoneNumberFromString takes for such a text, without its per-call Metadata,
// option objects and pattern compilation (~5 µs and ~6 KB of garbage per number). It answers only
// when the library's answer is certain to be "valid, country X, these digits":
//  - the calling code is the first 1–3 digit prefix the metadata knows (as the library picks it);
//  - that calling code belongs to exactly one country (shared codes such as +1, +7, +44 and the
//    non-geographic ones go the slow way: the library picks the country by the number);
//  - the plan's national-prefix-for-parsing does not match the start of the national number (so
//    the library would strip nothing and the national number is the rest of the digits);
//  - the number is valid (invalid numbers go the slow way, for the library's own reason text).
// Anything else returns undefined and takes the library path. shared/test/phone-fastpath.test.ts
// compares both paths over every country's example numbers, their neighbours and random numbers.
const E164_TEXT = /^\+[1-9]\d{6,16}$/;
const callingCodes = new Map<string, { country: string; prefix: RegExp | null } | null>();

function callingCodeInfo(callingCode: string): { country: string; prefix: RegExp | null } | null {
  let info = callingCodes.get(callingCode);
  if (info !== undefined) return info;
  const countries = plans.getCountryCodesForCallingCode(callingCode);
  info = null;
  if (countries && countries.length === 1 && countries[0] !== '001') {
    plans.selectNumberingPlan(callingCode);
    const prefix = plans.nationalPrefixForParsing();
    info = { country: countries[0]!, prefix: prefix ? new RegExp(`^(?:${prefix})`) : null };
  }
  callingCodes.set(callingCode, info);
  return info;
}

/** `{ ok: true, … }` when `text` ("+" and digits) is certainly a valid number; undefined: ask the library. */
export function validE164(text: string): PhoneResult | undefined {
  if (!E164_TEXT.test(text)) return undefined;
  for (let end = 2; end <= 4; end++) {
    const callingCode = text.slice(1, end);
    if (!plans.hasCallingCode(callingCode)) continue;
    const info = callingCodeInfo(callingCode);
    if (!info) return undefined;
    const national = text.slice(end);
    if (national.length < 2 || national.length > 17) return undefined;
    if (info.prefix?.test(national)) return undefined;
    return isValidNational(info.country, national) ? { ok: true, waId: text.slice(1), country: info.country } : undefined;
  }
  return undefined;
}

/** ISO country of an E.164 number (digits, with or without "+"); "ZZ" when it cannot be told. */
export function countryOfPhone(waId: string): string {
  const e164 = waId.startsWith('+') ? waId : `+${waId}`;
  // The fast path answers only for valid numbers, where its country is the library's (pinned in phone-fastpath.test.ts).
  const fast = validE164(e164);
  if (fast?.ok) return fast.country;
  return parsePhoneNumberFromString(e164)?.country ?? 'ZZ';
}

/**
 * A keyed hash (HMAC-SHA256, 132 bits kept) that identifies a recipient across events without storing the
 * number. A plain hash of a phone number is reversed by enumerating the number space; without the key
 * (RECIPIENT_HASH_SALT, at least 32 random bytes) it is not.
 */
export function hashRecipient(waId: string, key: string): string {
  return createHmac('sha256', key).update(waId).digest('base64url').slice(0, 22);
}
