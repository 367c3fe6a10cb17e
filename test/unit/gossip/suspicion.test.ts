import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Suspicion, suspicionTimeoutTicks } from '../../../src/gossip/suspicion.ts';

const MIN = 40;
const MAX = 160;

describe('suspicionTimeoutTicks', () => {
  it.each([
    [0, 3, MAX],
    [1, 3, 100],
    [2, 3, 64],
    [3, 3, MIN],
    [9, 3, MIN],
    [0, 1, MAX],
    [1, 1, MIN],
  ])('with %i of %i expected confirmations lasts %i ticks', (confirmations, expected, ticks) => {
    expect(suspicionTimeoutTicks(confirmations, expected, MIN, MAX)).toBe(ticks);
  });

  it('stays at suspicionMaxTicks when nobody could confirm', () => {
    expect(suspicionTimeoutTicks(0, 0, MIN, MAX)).toBe(MAX);
    expect(suspicionTimeoutTicks(5, 0, MIN, MAX)).toBe(MAX);
  });

  it('stays within [min, max] and never grows with more confirmations', () => {
    const bounds = fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 })).map(([min, extra]) => [min, min + extra] as const);
    fc.assert(
      fc.property(bounds, fc.nat({ max: 20 }), fc.nat({ max: 20 }), ([min, max], confirmations, expected) => {
        const now = suspicionTimeoutTicks(confirmations, expected, min, max);
        const next = suspicionTimeoutTicks(confirmations + 1, expected, min, max);
        expect(now).toBeGreaterThanOrEqual(min);
        expect(now).toBeLessThanOrEqual(max);
        expect(next).toBeLessThanOrEqual(now);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('Suspicion', () => {
  it('counts each accuser once, the first one not as a confirmation', () => {
    const suspicion = new Suspicion('a', 0, 10, 3);
    expect(suspicion.confirmations).toBe(0);
    expect(suspicion.confirm('a')).toBe(false);
    expect(suspicion.confirm('b')).toBe(true);
    expect(suspicion.confirm('b')).toBe(false);
    expect(suspicion.confirm('c')).toBe(true);
    expect(suspicion.confirmations).toBe(2);
  });

  it('expires once the timeout for its confirmations has passed since it started', () => {
    const suspicion = new Suspicion('a', 0, 10, 3);
    expect(suspicion.hasExpired(10 + MAX - 1, MIN, MAX)).toBe(false);
    expect(suspicion.hasExpired(10 + MAX, MIN, MAX)).toBe(true);
    suspicion.confirm('b');
    expect(suspicion.hasExpired(10 + 100, MIN, MAX)).toBe(true);
    expect(suspicion.hasExpired(10 + 99, MIN, MAX)).toBe(false);
  });
});
