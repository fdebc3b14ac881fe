import { describe, expect, it } from 'vitest';
import { getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { isValidNumber } from '../src/phone';

// isValidNumber re-implements PhoneNumber.isValid() with compiled patterns (for speed); it must
// give the library's answer for every number, valid or not, in every numbering plan.
describe('isValidNumber', () => {
  it('agrees with libphonenumber-js isValid() on every country’s example numbers and their neighbours', () => {
    let compared = 0;
    let valid = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      const digits = example.number.slice(1);
      const variants = [digits, digits.slice(0, -1), `${digits}0`, `${digits}00`, digits.slice(0, -2)];
      for (let i = 0; i < digits.length; i++) {
        for (const d of ['0', '1', '5', '9']) variants.push(digits.slice(0, i) + d + digits.slice(i + 1));
      }
      for (const v of variants) {
        const parsed = parsePhoneNumberFromString(`+${v}`);
        if (!parsed) continue;
        expect(isValidNumber(parsed), `+${v} (${country})`).toBe(parsed.isValid());
        compared++;
        if (parsed.isValid()) valid++;
      }
    }
    // Both answers are exercised, across the whole metadata.
    expect(compared).toBeGreaterThan(10_000);
    expect(valid).toBeGreaterThan(1_000);
    expect(compared - valid).toBeGreaterThan(1_000);
  });

  it('agrees on non-geographic numbers and numbers parsed with a default country', () => {
    for (const text of ['+80012345678', '+8081234567', '+870773111632', '+882345678901', '+979123456789']) {
      const parsed = parsePhoneNumberFromString(text);
      if (parsed) expect(isValidNumber(parsed), text).toBe(parsed.isValid());
    }
    for (const [text, country] of [
      ['07400 123456', 'GB'],
      ['0151 23456789', 'DE'],
      ['(201) 555-0123', 'US'],
      ['020 7946 0018', 'GB'],
    ] as const) {
      const parsed = parsePhoneNumberFromString(text, country);
      expect(parsed, text).toBeDefined();
      expect(isValidNumber(parsed!), text).toBe(parsed!.isValid());
    }
  });
});
