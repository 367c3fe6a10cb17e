import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortNumbersInPlace } from '../../../src/shared/sort-numbers.ts';

describe('sortNumbersInPlace', () => {
  it('orders like Array.prototype.sort with a numeric comparator, in the same array', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 12 }), (values) => {
        const copy = [...values];
        const sorted = sortNumbersInPlace(copy);
        expect(sorted).toBe(copy);
        expect(sorted).toEqual([...values].sort((a, b) => a - b));
      }),
    );
  });
});
