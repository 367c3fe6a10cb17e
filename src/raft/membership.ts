import { isNodeId, NODE_LIMITS } from '../shared/index.ts';
import type { Membership, NodeId } from './types.ts';

/** One server at a time (Raft thesis §4.1): any two consecutive configurations share a majority. */
export type MembershipChange =
  | { readonly type: 'addLearner'; readonly node: NodeId }
  | { readonly type: 'addVoter'; readonly node: NodeId }
  | { readonly type: 'demote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [] };

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

export function members(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** The configuration after `change`, or the reason it is not a valid single-server change. */
export function applyMembershipChange(current: Membership, change: MembershipChange): Membership | { readonly invalid: string } {
  const node = change.node;
  // What peers would refuse in a config entry must never reach the log (see NODE_LIMITS).
  if (!isNodeId(node)) return { invalid: `node ids are 1 to ${NODE_LIMITS.idLengthMax} characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"` };
  const voters = current.voters.filter((id) => id !== node);
  const learners = current.learners.filter((id) => id !== node);
  switch (change.type) {
    case 'addLearner':
      if (isMember(current, node)) return { invalid: `${node} is already a member` };
      if (voters.length + learners.length >= NODE_LIMITS.membersMax) return { invalid: `a configuration holds at most ${NODE_LIMITS.membersMax} members` };
      return { voters, learners: [...learners, node] };
    case 'addVoter':
      if (isVoter(current, node)) return { invalid: `${node} is already a voter` };
      return { voters: [...voters, node], learners };
    case 'demote':
      if (!isVoter(current, node)) return { invalid: `${node} is not a voter` };
      if (voters.length === 0) return { invalid: 'cannot demote the last voter' };
      return { voters, learners: [...learners, node] };
    case 'remove':
      if (!isMember(current, node)) return { invalid: `${node} is not a member` };
      if (voters.length === 0) return { invalid: 'cannot remove the last voter' };
      return { voters, learners };
  }
}
