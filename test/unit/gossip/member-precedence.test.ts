import { describe, expect, it } from 'vitest';
import type { MemberState } from '../../../src/gossip/index.ts';
import { supersedes } from '../../../src/gossip/member-precedence.ts';

type Row = [MemberState, number, MemberState, number, boolean];

describe('supersedes', () => {
  it.each<Row>([
    ['alive', 1, 'alive', 2, true],
    ['dead', 1, 'alive', 2, true],
    ['left', 1, 'suspect', 2, true],
    ['alive', 2, 'dead', 1, false],
    ['suspect', 2, 'left', 1, false],
    ['alive', 1, 'suspect', 1, true],
    ['alive', 1, 'dead', 1, true],
    ['suspect', 1, 'dead', 1, true],
    ['alive', 1, 'left', 1, true],
    ['suspect', 1, 'left', 1, true],
    ['dead', 1, 'left', 1, true],
    ['suspect', 1, 'alive', 1, false],
    ['dead', 1, 'suspect', 1, false],
    ['left', 1, 'dead', 1, false],
    ['alive', 1, 'alive', 1, false],
    ['dead', 1, 'dead', 1, false],
  ])('known %s@%i, claim %s@%i: %s', (knownState, knownIncarnation, state, incarnation, expected) => {
    expect(supersedes({ state: knownState, incarnation: knownIncarnation }, { state, incarnation })).toBe(expected);
  });
});
