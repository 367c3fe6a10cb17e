import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nackBackoffMs } from '../../../src/queue/index.ts';

// Goal: the nack backoff jitter stays inside [backoff/2, backoff], is the same on every replica
// for the same entry, and spreads messages apart.
describe('nackBackoffMs', () => {
  const backoff = { baseMs: 1000, maxMs: 60_000 };

  it('stays within [backoff/2, backoff] for any seed, id, attempt and policy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (seed, id, attempt, baseMs, extraMs) => {
          const policy = { baseMs, maxMs: baseMs + extraMs };
          const full = Math.min(policy.maxMs, baseMs * 2 ** Math.min(30, attempt - 1));
          const delay = nackBackoffMs(policy, attempt, seed, id);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(full / 2);
          expect(delay).toBeLessThanOrEqual(full);
        },
      ),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('gives the same delay for the same seed and id, as every replica must', () => {
    expect(nackBackoffMs(backoff, 3, 12345, 'abc')).toBe(nackBackoffMs(backoff, 3, 12345, 'abc'));
  });

  it('spreads the messages of one nack apart, and one message across seeds', () => {
    const byId = new Set(Array.from({ length: 100 }, (_, index) => nackBackoffMs(backoff, 4, 99, index.toString(36))));
    const bySeed = Array.from({ length: 1000 }, (_, seed) => nackBackoffMs(backoff, 4, seed, 'one'));
    expect(byId.size).toBeGreaterThan(90);
    // Both ends of [4000, 8000] are reached: the jitter uses the whole range, not a corner of it.
    expect(bySeed.some((delay) => delay < 4400)).toBe(true);
    expect(bySeed.some((delay) => delay > 7600)).toBe(true);
  });

  it('waits nothing when the policy says nothing', () => {
    expect(nackBackoffMs({ baseMs: 0, maxMs: 0 }, 5, 1, 'a')).toBe(0);
  });
});
