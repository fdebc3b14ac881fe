import { describe, expect, it } from 'vitest';
import { inboundReserve } from '../../src/domain/inbound';

describe('the reserve left for inbound messages', () => {
  it('is zero without inbound traffic', () => {
    expect(inboundReserve([0, 0, 0])).toBe(0);
    expect(inboundReserve([])).toBe(0);
  });
  it('covers the busiest recent second with a quarter more, rounded up', () => {
    expect(inboundReserve([3, 12, 7])).toBe(15);
    expect(inboundReserve([1])).toBe(2);
  });
});
