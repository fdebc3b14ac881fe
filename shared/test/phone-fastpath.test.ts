import { describe, expect, it } from 'vitest';
import { getCountries, getCountryCallingCode, getExampleNumber, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';
import examples from 'libphonenumber-js/mobile/examples';
import { countryOfPhone, normalisePhone, validE164 } from '../src/phone';

// normalisePhone answers "+digits" texts without parsing them when it is certain of the library's
// answer (validE164), and countryOfPhone reads the country off a one-country calling code; the
// results must be exactly what the library's parse gives.
function libraryAnswer(text: string, parsed = parsePhoneNumberFromString(text)) {
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
    // The national number with a trunk prefix written after the calling code ("+49 0151…"), which the
    // library's parse strips and the fast path does not look for.
    const code = getCountryCallingCode(country);
    const national = digits.slice(code.length);
    for (const trunk of ['0', '1', '8', '9', '00', '06', '80'])
      corpus.push(`+${code}${trunk}${national}`, `+${code}${trunk}${national.slice(0, -trunk.length)}`);
  }
  const random = lcg(20261125);
  const callingCodes = Object.keys(metadata.country_calling_codes);
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

  it('gives the library’s answer for every number of a corpus of ~40,000 (and takes the fast path for most valid ones; countryOfPhone gives the library’s country for all)', () => {
    let fast = 0;
    let valid = 0;
    for (const text of corpus) {
      const parsed = parsePhoneNumberFromString(text);
      const expected = libraryAnswer(text, parsed);
      const got = normalisePhone(text);
      if (expected.ok) {
        valid++;
        expect(got, text).toEqual(expected);
      } else {
        expect(got.ok, text).toBe(false);
      }
      expect(countryOfPhone(text), text).toBe(parsed?.country ?? 'ZZ');
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
  }, 60_000); // CPU-bound over the whole corpus; the machine may be shared

  it('keeps the digits as written for every valid number whose first two national digits vary (no trunk prefix is stripped)', () => {
    // The library's parse strips a trunk prefix written after the calling code unless the digits as
    // written fit the plan; the fast path never strips. Numbers that begin with a trunk-prefix digit
    // and are valid as written (8-800 in LT and BY, 9… in AR) must still get the library's answer.
    let answered = 0;
    for (const [code, countries] of Object.entries(metadata.country_calling_codes)) {
      const country = countries[0];
      // One country per code ('001', the non-geographic entry, is no supported country).
      if (countries.length !== 1 || country === undefined || !isSupportedCountry(country)) continue;
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      const rest = example.nationalNumber.slice(2);
      for (let head = 0; head < 100; head++) {
        const text = `+${code}${String(head).padStart(2, '0')}${rest}`;
        const quick = validE164(text);
        if (!quick) continue;
        answered++;
        expect(quick, text).toEqual(libraryAnswer(text));
      }
    }
    expect(answered).toBeGreaterThan(1_000);
    for (const text of ['+37080034567', '+375800911911', '+5492323456789']) expect(validE164(text), text).toEqual(libraryAnswer(text));
  }, 60_000);

  it('gives the library’s answer for numbers written with spaces, dashes, brackets, without "+" or with "00"', () => {
    // normalisePhone parses "+" + the text when it has no "+" (a "00" dropped); the library's answer is for that text.
    const expectedFor = (text: string) => libraryAnswer(text.startsWith('+') ? text : `+${text.replace(/^00/, '')}`);
    let compared = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      const spaced = example.formatInternational(); // e.g. "+49 1512 3456789"
      const digits = example.number.slice(1);
      const [code, ...rest] = spaced.slice(1).split(' ');
      for (const text of [
        spaced,
        spaced.replaceAll(' ', '-'),
        spaced.replaceAll(' ', '.'),
        `+${code} (${rest[0] ?? ''}) ${rest.slice(1).join(' ')}`,
        `+${code} (0) ${rest.join(' ')}`,
        spaced.slice(1),
        `00${spaced.slice(1)}`,
        digits,
        `00${digits}`,
        `${spaced.slice(0, -1)} ${spaced.slice(-1)}`,
      ]) {
        expect(normalisePhone(text), text).toEqual(expectedFor(text).ok ? expectedFor(text) : expect.objectContaining({ ok: false }));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(2_000);
    // Past the parse's input-length limit the library finds no number; so must the fast path.
    const padded = `+49 151${' '.repeat(300)}12345678`;
    expect(normalisePhone(padded).ok).toBe(libraryAnswer(padded).ok);
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
