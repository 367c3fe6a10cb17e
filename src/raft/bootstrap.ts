import { assert } from '../shared/index.ts';
import type { Membership, PersistedState } from './types.ts';

/**
 * The state every founding member writes once: the same first entry (index 1, term 1) holding the
 * initial configuration, already committed. A node that joins later starts from `EMPTY_STATE` and
 * receives that entry (or a snapshot) from the leader.
 */
export function bootstrapState(membership: Membership): PersistedState {
  assert(membership.voters.length > 0, 'a cluster is bootstrapped with at least one voter');
  assert(
    new Set([...membership.voters, ...membership.learners]).size === membership.voters.length + membership.learners.length,
    'bootstrap members must be distinct',
  );
  return {
    hardState: { term: 1, vote: '', commit: 1 },
    entries: [{ index: 1, term: 1, kind: 'config', data: new Uint8Array(0), membership }],
  };
}

export const EMPTY_STATE: PersistedState = { hardState: { term: 0, vote: '', commit: 0 }, entries: [] };
