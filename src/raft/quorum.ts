import { sortNumbersInPlace } from '../shared/index.ts';
import { quorumSize } from './membership.ts';
import type { NodeId } from './types.ts';

/** The highest index that a majority of `voters` have (by `matchOf`); 0 with no voters. */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  sortNumbersInPlace(matches);
  return matches[voters.length - quorumSize(voters.length)]!;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Each voter counts once, whatever the number of answers it sent (RELIABILITY R13). */
export function voteOutcome(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    if (vote === false) rejected++;
  }
  const quorum = quorumSize(voters.length);
  if (granted >= quorum) return 'won';
  if (rejected > voters.length - quorum) return 'lost';
  return 'pending';
}

/** Whether the voters in `acknowledged` form a majority. */
export function hasQuorum(voters: readonly NodeId[], acknowledged: (id: NodeId) => boolean): boolean {
  let count = 0;
  for (const id of voters) if (acknowledged(id)) count++;
  return count >= quorumSize(voters.length);
}
