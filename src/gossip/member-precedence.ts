import { isNodeAddress, isNodeId } from '../shared/index.ts';
import type { MemberState, MemberUpdate } from './types.ts';

/**
 * At one incarnation, later states in SWIM's life cycle win: a suspicion overrides alive, and a
 * death or a leave overrides both. `left` ranks above `dead` so that a graceful leave is never
 * reported as a failure by a peer that also timed out on it.
 */
const STATE_RANK: Readonly<Record<MemberState, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

interface Claim {
  readonly incarnation: number;
  readonly state: MemberState;
}

/** Whether `update` replaces what is `known` about a member. Only the member raises its incarnation. */
export function supersedes(known: Claim, update: Claim): boolean {
  if (update.incarnation !== known.incarnation) return update.incarnation > known.incarnation;
  return STATE_RANK[update.state] > STATE_RANK[known.state];
}

/** A second accuser of a suspicion we already hold: it shortens the suspicion, not restarts it. */
export function confirmsSuspicion(known: Claim, update: Claim): boolean {
  return known.state === 'suspect' && update.state === 'suspect' && update.incarnation === known.incarnation;
}

/** A claim about a member we never knew is worth keeping only while that member may be alive. */
export function admitsUnknown(update: Claim): boolean {
  return update.state === 'alive' || update.state === 'suspect';
}

/** Incarnations stay below this so that a refutation (+1) remains an exact integer. */
const INCARNATION_MAX = Number.MAX_SAFE_INTEGER - 1;

const STATES: ReadonlySet<string> = new Set(Object.keys(STATE_RANK));

/** Claims come off the network: anything the codec let through is checked before it is believed. */
export function isWellFormed(update: MemberUpdate): boolean {
  if (typeof update !== 'object' || update === null) return false;
  // Ids and addresses as every layer accepts them (NODE_LIMITS): a member admitted here with a
  // longer one would be proposed to Raft, and its config entry refused by every follower.
  if (!isNodeId(update.id) || !isNodeAddress(update.address) || typeof update.by !== 'string') return false;
  if (!Number.isSafeInteger(update.incarnation)) return false;
  if (update.incarnation < 0 || update.incarnation > INCARNATION_MAX) return false;
  return STATES.has(update.state);
}
