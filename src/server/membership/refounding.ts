import { randomBytes } from 'node:crypto';
import type { NodeId } from '../../raft/index.ts';
import { encode } from '../../shared/codec.ts';
import type { RaftStorage } from '../../storage/index.ts';
import { REFOUNDING_MARK_PREFIX } from '../../transport/index.ts';
import { EMPTY_READY } from './empty-ready.ts';

/** Where a node keeps the founders of its cluster (see `ClusterFounding`). */
export const FOUNDERS_META_KEY = 'founders';

/** What a refounded cluster starts from: the queues' state at one index, and this node alone. */
export interface Refounding {
  readonly id: NodeId;
  /** The encoded queue state (see `QueueStateMachine.snapshot`) at `index`. */
  readonly data: Uint8Array;
  readonly index: number;
  /** Above every term the data came from: no log of the old cluster can match this one's. */
  readonly term: number;
  readonly founders: readonly NodeId[];
}

/**
 * Founders for a cluster founded from existing data rather than from blank nodes: this node and a
 * generation mark no node id ever takes (ours are hex, see `openNodeStorage`) and that is drawn at
 * random. The old cluster's founders were node ids only, or another refounding's mark, so the two
 * lists can never be equal: every node of the old cluster that announces its founders is refused,
 * and so is one that announces none but holds state (see `foundersConflict`).
 */
export function refoundedFounders(id: NodeId): readonly NodeId[] {
  return [id, `${REFOUNDING_MARK_PREFIX}${randomBytes(8).toString('hex')}`];
}

/**
 * The first step of a refounding: the new founders, in a synced write of their own. A crash after
 * it and before `writeRefoundedState` leaves the old state under the new founders, a node that every
 * member of its old cluster refuses and that therefore can never win an election with them, until
 * the refounding is finished. The other order could leave the new single-voter state under the old
 * founders, letting nodes of the old cluster link to it.
 */
export async function storeRefoundedFounders(storage: RaftStorage, founders: readonly NodeId[]): Promise<void> {
  await storage.putMeta(FOUNDERS_META_KEY, encode(founders));
}

/**
 * The second step: rewrites a node's Raft state as a new single-voter cluster: a snapshot of the
 * queues at `index`, whose configuration is this node alone, with the term above any it held, and
 * nothing below it kept (the log and older snapshots go in the same batch). That is one synced
 * write: a crash before it leaves the old state, after it the new one.
 *
 * The caller reopens storage afterwards: the core must start from what the disk now holds.
 */
export async function writeRefoundedState(storage: RaftStorage, refounding: Refounding): Promise<void> {
  const { id, data, index, term } = refounding;
  await storage.save({
    ...EMPTY_READY,
    snapshot: { meta: { index, term, membership: { voters: [id], learners: [] } }, data },
    hardState: { term, vote: '', commit: index },
    mustSync: true,
  });
}

/** Both steps, for a directory nothing else reads meanwhile (a restore). */
export async function refoundCluster(storage: RaftStorage, refounding: Refounding): Promise<void> {
  await storeRefoundedFounders(storage, refounding.founders);
  await writeRefoundedState(storage, refounding);
}
