import { describe, expect, it } from 'vitest';
import { ProbeOrder } from '../../../src/gossip/probe-order.ts';
import { Prng } from '../../../src/shared/index.ts';

const MEMBERS = ['b', 'c', 'd', 'e', 'f', 'g'];

function rounds(order: ProbeOrder, prng: Prng, members: readonly string[], count: number): string[][] {
  return Array.from({ length: count }, () => members.map(() => order.next(members, prng)!));
}

describe('ProbeOrder', () => {
  it('probes every member exactly once per round, in a fresh order each round', () => {
    const picked = rounds(new ProbeOrder(), new Prng(7), MEMBERS, 6);
    for (const round of picked) expect([...round].sort()).toEqual(MEMBERS);
    expect(new Set(picked.map((round) => round.join())).size).toBeGreaterThan(1);
  });

  it('skips a member that is no longer probeable without spending a probe on it', () => {
    const order = new ProbeOrder();
    const prng = new Prng(3);
    const first = order.next(MEMBERS, prng)!;
    const rest = MEMBERS.filter((id) => id !== first);
    const [gone, ...remaining] = rest;
    const picked = remaining.map(() =>
      order.next(
        rest.filter((id) => id !== gone),
        prng,
      ),
    );
    expect([...picked].sort()).toEqual([...remaining].sort());
  });

  it('a member that joins mid-round waits for the next round, then is probed once in it', () => {
    const order = new ProbeOrder();
    const prng = new Prng(5);
    const before = MEMBERS.slice(0, 5);
    const firstAndStartOfSecond = Array.from({ length: 7 }, () => order.next(before, prng));
    const restOfSecond = Array.from({ length: 3 }, () => order.next(MEMBERS, prng));
    const third = Array.from({ length: 6 }, () => order.next(MEMBERS, prng));
    expect([...firstAndStartOfSecond, ...restOfSecond]).not.toContain('g');
    expect([...third].sort()).toEqual(MEMBERS);
  });

  it('yields nothing when nobody is probeable', () => {
    expect(new ProbeOrder().next([], new Prng(1))).toBeUndefined();
  });
});
