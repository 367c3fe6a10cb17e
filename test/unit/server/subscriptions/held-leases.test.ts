import { describe, expect, it } from 'vitest';
import { HeldLeases } from '../../../../src/server/subscriptions/held-leases.ts';

// Goal: a push subscription's credit is prefetch minus the leases it delivered that have not been
// settled through its connection nor expired, whichever way they end.
const lease = (id: string, attempt = 1) => ({ id, receipt: `${id}:${attempt}` });

describe('the leases a push subscription holds', () => {
  it('spends one credit per delivered lease', () => {
    const held = new HeldLeases(3);
    expect(held.credit()).toBe(3);
    held.hold([lease('a'), lease('b')], 1000);
    expect(held.credit()).toBe(1);
  });

  it('returns credit for an answered ack or nack, by receipt or by bare id, accepted or not', () => {
    const held = new HeldLeases(3);
    held.hold([lease('a'), lease('b'), lease('c')], 1000);
    expect(held.settle(['a:1'], [])).toBe(1);
    expect(held.settle([], ['b'])).toBe(1);
    expect(held.credit()).toBe(2);
  });

  it('ignores a settle for a receipt it does not hold, such as an older lease of the same message', () => {
    const held = new HeldLeases(2);
    held.hold([lease('a', 2)], 1000);
    expect(held.settle(['a:1', 'zz:1'], [])).toBe(0);
    expect(held.credit()).toBe(1);
  });

  it('replaces an older lease of a message delivered again, so credit is not spent twice', () => {
    const held = new HeldLeases(2);
    held.hold([lease('a', 1)], 1000);
    held.hold([lease('a', 2)], 2000);
    expect(held.size).toBe(1);
    expect(held.settle(['a:2'], [])).toBe(1);
  });

  it('returns credit when a lease expires, and not before', () => {
    const held = new HeldLeases(2);
    held.hold([lease('a')], 1000);
    held.hold([lease('b')], 2000);
    expect(held.nextDeadline()).toBe(1000);
    expect(held.expire(999)).toBe(0);
    expect(held.expire(1000)).toBe(1);
    expect(held.nextDeadline()).toBe(2000);
  });

  it('moves the deadline of an extended lease and drops one the queue refused to extend', () => {
    const held = new HeldLeases(2);
    held.hold([lease('a'), lease('b')], 1000);
    expect(held.extend(['a:1', 'b:1'], [], 5000, new Set(['b']))).toBe(1);
    expect(held.expire(4999)).toBe(0);
    expect(held.expire(5000)).toBe(1);
  });

  it('never shortens a lease on an extension that arrives late', () => {
    const held = new HeldLeases(1);
    held.hold([lease('a')], 9000);
    held.extend(['a:1'], [], 5000, new Set());
    expect(held.nextDeadline()).toBe(9000);
  });

  it('hands every receipt back at once when its connection closes', () => {
    const held = new HeldLeases(3);
    held.hold([lease('a'), lease('b')], 1000);
    expect(held.takeAll().sort()).toEqual(['a:1', 'b:1']);
    expect(held.credit()).toBe(3);
  });

  it('treats a receive that delivers beyond the credit as a broken invariant', () => {
    const held = new HeldLeases(1);
    expect(() => held.hold([lease('a'), lease('b')], 1000)).toThrow(/more than the credit/);
  });
});
