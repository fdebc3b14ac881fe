import { describe, expect, it } from 'vitest';
import { holdsMarketing, qualityIsLow } from '../../src/domain/quality-gate';

describe('marketing on a low-quality number', () => {
  it('a RED (FLAGGED) number holds marketing and keeps utility and authentication', () => {
    expect(holdsMarketing('marketing', 'RED', 'RED')).toBe(true);
    expect(holdsMarketing('utility', 'RED', 'RED')).toBe(false);
    expect(holdsMarketing('authentication', 'RED', 'RED')).toBe(false);
    expect(holdsMarketing('marketing', 'YELLOW', 'RED')).toBe(false);
    expect(holdsMarketing('marketing', 'GREEN', 'RED')).toBe(false);
    expect(holdsMarketing('marketing', undefined, 'RED')).toBe(false);
  });

  it('YELLOW holds at YELLOW and RED; never holds nothing', () => {
    expect(qualityIsLow('YELLOW', 'YELLOW')).toBe(true);
    expect(qualityIsLow('red', 'YELLOW')).toBe(true);
    expect(qualityIsLow('GREEN', 'YELLOW')).toBe(false);
    expect(qualityIsLow('RED', 'never')).toBe(false);
    expect(qualityIsLow('UNKNOWN', 'RED')).toBe(false);
  });
});
