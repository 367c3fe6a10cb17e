import type { Ready } from '../../raft/index.ts';

/** A ready that asks for nothing: a base for writes the node makes outside the core (bootstrap). */
export const EMPTY_READY: Ready = {
  softState: undefined,
  hardState: undefined,
  snapshot: undefined,
  entries: [],
  committedEntries: [],
  messages: [],
  readStates: [],
  readFailures: [],
  mustSync: false,
};
