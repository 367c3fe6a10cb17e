import { QueueStateMachine } from '../../queue/index.ts';
import type { LogPosition, Membership, PersistedState } from '../../raft/index.ts';
import { EntryCommands } from './entry-commands.ts';

/** The queues' state after every entry a node holds, encoded, and where its log ended. */
export interface StateAtEnd {
  readonly data: Uint8Array;
  readonly last: LogPosition;
  /** Entries the node held beyond its commit index: applied here as if committed. */
  readonly uncommitted: number;
  /** Entries or commands skipped because they did not decode or apply, as every replica would. */
  readonly rejected: number;
  /** The last configuration the node holds (its snapshot's, or its log's last), if any. */
  readonly membership: Membership | undefined;
}

/**
 * The state a node's own data holds, to the end of its log: its snapshot, then every entry after
 * it, committed or not, applied as the replica applies committed entries (`EntryCommands`). A
 * disaster recovery (`--force-new-cluster`) takes the survivor's whole log as committed: an entry
 * it holds may have been acknowledged to a client (it was on a majority that is now gone), and an
 * entry that was not is indistinguishable from one that was. Encoded in one go, before the node
 * serves: there is no one to keep waiting yet.
 */
export function stateAtEnd(persisted: PersistedState): StateAtEnd {
  const machine = new QueueStateMachine();
  let rejected = 0;
  const commands = new EntryCommands({ machine, onApplied: () => undefined, onRejected: () => rejected++ });
  if (persisted.snapshot !== undefined) machine.restore(persisted.snapshot.data);
  let membership = persisted.snapshot?.meta.membership;
  let last: LogPosition =
    persisted.snapshot === undefined ? { index: 0, term: 0 } : { index: persisted.snapshot.meta.index, term: persisted.snapshot.meta.term };
  for (const entry of persisted.entries) {
    if (entry.kind === 'normal') commands.apply(entry);
    else if (entry.kind === 'config' && entry.membership !== undefined) membership = entry.membership;
    last = { index: entry.index, term: entry.term };
  }
  return { data: machine.snapshot(), last, uncommitted: Math.max(0, last.index - persisted.hardState.commit), rejected, membership };
}
