import { describe, expect, it } from 'vitest';
import { createKeywordMatcher, normaliseKeyword } from '../../src/domain/keywords';

const matcher = createKeywordMatcher({ optOut: ['STOP', 'UNSUBSCRIBE', 'ARRET', 'BAJA', 'STOPP'], optIn: ['START', 'SUBSCRIBE'] });

describe('keyword rules', () => {
  it('matches the whole message, case-, accent- and punctuation-insensitively', () => {
    for (const text of ['STOP', 'stop', ' Stop! ', 'Arrêt', 'arrêt.', 'BAJA', 'Stopp', 'unsubscribe', '🛑 STOP 🛑']) {
      expect(matcher.classify(text), text).toBe('opt_out');
    }
    for (const text of ['START', 'start', 'Subscribe!']) expect(matcher.classify(text), text).toBe('opt_in');
  });

  it('does not match keywords inside a longer message', () => {
    for (const text of ["please don't stop my orders", 'stop it now', 'STARTING', 'bus stop', '', 'STOP STOP']) {
      expect(matcher.classify(text), text).toBeUndefined();
    }
    expect(matcher.classify(undefined)).toBeUndefined();
  });

  it('normalises accents and inner whitespace', () => {
    expect(normaliseKeyword('  Arrêt   svp ')).toBe('ARRET SVP');
  });

  it('refuses a keyword configured both ways', () => {
    expect(() => createKeywordMatcher({ optOut: ['STOP'], optIn: ['stop'] })).toThrow(/both/);
  });
});
