import { describe, expect, it } from 'vitest';
import { getCountries, getExampleNumber, Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { normalisePhone, validE164 } from '../src/phone';

// normalisePhone answers "+digits" texts without libphonenumber-js when it is certain of the
// library's answer (validE164); the result must be exactly what the library path gives.
function libraryAnswer(text: string) {
  const parsed = parsePhoneNumberFromString(text);
  if (!parsed) return { ok: false };
  if (!parsed.isValid()) return { ok: false };
  return { ok: true, waId: parsed.number.slice(1), country: parsed.country ?? 'ZZ' };
}

/** A small deterministic generator (the corpus is the same on every run). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

describe('normalisePhone fast path for "+digits" numbers', () => {
  const corpus: string[] = [];
  for (const country of getCountries()) {
    const example = getExampleNumber(country, examples);
    if (!example) continue;
    const digits = example.number.slice(1);
    corpus.push(`+${digits}`, `+${digits.slice(0, -1)}`, `+${digits}0`, `+${digits}00`, `+${digits.slice(0, -2)}`);
    for (let i = 1; i < digits.length; i++) for (const d of ['0', '1', '5', '9']) corpus.push(`+${digits.slice(0, i)}${d}${digits.slice(i + 1)}`);
  }
  const random = lcg(20261125);
  const callingCodes = Object.keys((new Metadata() as unknown as { countryCallingCodes(): Record<string, string[]> }).countryCallingCodes());
  for (const code of callingCodes) {
    for (let n = 0; n < 100; n++) {
      const length = 4 + Math.floor(random() * 11);
      let national = '';
      for (let i = 0; i < length; i++) national += String(Math.floor(random() * 10));
      corpus.push(`+${code}${national}`);
    }
  }
  // The shapes the benchmark and typical upstreams send.
  for (let j = 0; j < 2_000; j++) corpus.push(`+49151${String(20_000_000 + j)}`, `+49152${String(10_000_000 + j)}`, `+3361234${String(1_000 + j)}`);

  it('gives the library’s answer for every number of a corpus of ~40,000 (and takes the fast path for most valid ones)', () => {
    let fast = 0;
    let valid = 0;
    for (const text of corpus) {
      const expected = libraryAnswer(text);
      const got = normalisePhone(text);
      if (expected.ok) {
        valid++;
        expect(got, text).toEqual(expected);
      } else {
        expect(got.ok, text).toBe(false);
      }
      const quick = validE164(text);
      if (quick) {
        fast++;
        expect(quick, text).toEqual(expected);
      }
    }
    console.log(`phone fast path: ${corpus.length} numbers, ${valid} valid, ${fast} answered by the fast path`);
    expect(corpus.length).toBeGreaterThan(30_000);
    expect(valid).toBeGreaterThan(8_000);
    expect(fast).toBeGreaterThan(valid / 2);
  });

  it('leaves shared and non-geographic calling codes, national prefixes and other spellings to the library', () => {
    for (const text of [
      '+12015550123',
      '+74951234567',
      '+447400123456',
      '+80012345678',
      '+4901512345678',
      '4915112345678',
      '+49 151 12345678',
      '+49151123456789012345',
    ]) {
      expect(validE164(text), text).toBeUndefined();
    }
    expect(validE164('+4915112345678')).toEqual({ ok: true, waId: '4915112345678', country: 'DE' });
    expect(normalisePhone('+12015550123')).toEqual(libraryAnswer('+12015550123'));
    expect(normalisePhone(' +4915112345678 ')).toEqual({ ok: true, waId: '4915112345678', country: 'DE' });
  });
});
