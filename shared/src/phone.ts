import { createHash } from 'node:crypto';
import { Metadata, parsePhoneNumberFromString, type PhoneNumber } from 'libphonenumber-js/max';

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
  plans.selectNumberingPlan(parsed.country ?? parsed.countryCallingCode);
  const national = parsed.nationalNumber;
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

/** ISO country of an E.164 number (digits, with or without "+"); "ZZ" when it cannot be told. */
export function countryOfPhone(waId: string): string {
  const parsed = parsePhoneNumberFromString(waId.startsWith('+') ? waId : `+${waId}`);
  return parsed?.country ?? 'ZZ';
}

/** A salted hash that identifies a recipient across events without storing the number. */
export function hashRecipient(waId: string, salt: string): string {
  return createHash('sha256').update(salt).update(':').update(waId).digest('base64url').slice(0, 22);
}
