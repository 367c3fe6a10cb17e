import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { NodeId, PersistedState } from '../../raft/index.ts';
import { decode } from '../../shared/codec.ts';
import { isNodeId } from '../../shared/index.ts';
import { type OpenedStorage, syncDirectory } from '../../storage/index.ts';
import { FOUNDERS_META_KEY, refoundedFounders, storeRefoundedFounders, writeRefoundedState } from '../membership/index.ts';
import { stateAtEnd } from '../replication/index.ts';

/**
 * Written into the data directory by a forced start, right after the new founders and before the
 * new Raft state: the founders it gives the new cluster, and the index and term of that state.
 * While they are still the node's founders, another start with the flag either finishes an
 * interrupted refounding (the state has not reached the marker's index) or is refused (it has): see
 * `forceNewCluster`. An operator who must force again deletes this file.
 */
export const FORCED_MARKER_FILE = 'force-new-cluster.json';

interface ForcedMarker {
  readonly founders: readonly NodeId[];
  readonly index: number;
  readonly term: number;
  readonly at: string;
}

/**
 * Disaster recovery (`--force-new-cluster`, as etcd's): a majority is gone for good, and this
 * survivor becomes a new cluster of one from its own data. Before the node serves:
 *
 * - its whole log is taken as committed, to its last index (see `stateAtEnd`);
 * - the cluster gets new founders no node of the old cluster holds, so that any of them that comes
 *   back with its data is refused at the handshake and never votes with its stale configuration
 *   (synced first, see `storeRefoundedFounders`);
 * - the marker file names them, with the index and term of the new state (synced, with its
 *   directory);
 * - its Raft state is rewritten in one synced write: a snapshot of the queues at the index after
 *   its last (that index stands for a no-op the old cluster never had), membership = itself, a term
 *   above any it has seen, everything below discarded (see `writeRefoundedState`).
 *
 * The flag is for one start. A second start with it would refound again, change the identity under
 * the nodes that joined since and drop them from the configuration: it is refused, clearly, while
 * the founders are still those the marker names and the state has reached the marker's index and
 * term. A crash before the state was written leaves the marker ahead of the state: the next start
 * with the flag finishes that refounding, under the same founders. A crash before the marker was
 * written leaves no marker (or an older refounding's): the next start with the flag forces afresh,
 * from the old state, which no joiner can have seen (the new state was never written).
 */
export async function forceNewCluster(opened: OpenedStorage, dataDir: string, log: Logger): Promise<void> {
  const { id, storage, persisted } = opened;
  const founders = await storedFounders(opened);
  const marker = await readMarker(dataDir);
  const interrupted = marker !== undefined && founders !== undefined && sameIds(marker.founders, founders);
  if (interrupted && reached(persisted, marker)) {
    throw new Error(
      `--force-new-cluster was already carried out on this data directory (${marker.at}, index ${marker.index}); the flag is for one start only: ` +
        'remove it and start the node again. Only if this new cluster has lost its majority too, delete ' +
        `${FORCED_MARKER_FILE} from the data directory and start with the flag once more`,
    );
  }
  const state = stateAtEnd(persisted);
  if (state.last.index === 0) {
    throw new Error(
      persisted.recovery !== undefined
        ? `--force-new-cluster: this node's log was discarded as damaged (it held entries up to index ${persisted.recovery.index}, term ${persisted.recovery.term}) ` +
            'and nothing is left to recover from: force another survivor, or restore from a backup'
        : '--force-new-cluster: this data directory holds no cluster state to recover from',
    );
  }
  if (interrupted) {
    log.warn(
      { founders: marker.founders, markerIndex: marker.index, lastIndex: state.last.index },
      '--force-new-cluster: a previous forced start stopped before it wrote the new state: finishing it under the founders it chose',
    );
  }
  log.error(
    { founders, lastIndex: state.last.index, lastTerm: state.last.term, uncommitted: state.uncommitted },
    '--force-new-cluster: this node becomes a NEW single-voter cluster from its own data; every other member of the old cluster is dropped',
  );
  if (persisted.recovery !== undefined) {
    log.error(
      { lost: persisted.recovery },
      '--force-new-cluster: this node had lost entries it acknowledged (it was recovering): what it lost is lost for good',
    );
  }
  if (state.membership !== undefined && !state.membership.voters.includes(id)) {
    log.warn(
      { voters: state.membership.voters, learners: state.membership.learners },
      '--force-new-cluster: this node was not a voter of its last configuration: it may lack entries the voters committed; prefer a survivor that was a voter',
    );
  }
  if (state.uncommitted > 0) {
    log.warn({ entries: state.uncommitted }, '--force-new-cluster: entries beyond the known commit index are taken as committed');
  }
  if (state.rejected > 0)
    log.warn({ rejected: state.rejected }, '--force-new-cluster: entries or commands that did not apply were skipped, as on every replica');
  const index = state.last.index + 1;
  const term = Math.max(persisted.hardState.term, state.last.term) + 1;
  const newFounders = interrupted ? marker.founders : refoundedFounders(id);
  if (!interrupted) await storeRefoundedFounders(storage, newFounders);
  await writeMarker(dataDir, { founders: newFounders, index, term, at: new Date().toISOString() });
  await writeRefoundedState(storage, { id, data: state.data, index, term, founders: newFounders });
  log.warn(
    { founders: newFounders, index, term },
    '--force-new-cluster: done. Remove the flag before the next start; grow the cluster back by starting blank nodes with --seeds pointing here and --bootstrap-expect 0',
  );
}

/** Whether the node's state has reached the one a forced start wrote (or it has moved on from it). */
function reached(persisted: PersistedState, marker: ForcedMarker): boolean {
  const lastIndex = persisted.entries.at(-1)?.index ?? persisted.snapshot?.meta.index ?? 0;
  return lastIndex >= marker.index && persisted.hardState.term >= marker.term;
}

async function storedFounders(opened: OpenedStorage): Promise<readonly NodeId[] | undefined> {
  const bytes = await opened.storage.getMeta(FOUNDERS_META_KEY);
  if (bytes === undefined) return undefined;
  const founders = decode(bytes) as unknown;
  return isIdList(founders) ? founders : undefined;
}

async function readMarker(dataDir: string): Promise<ForcedMarker | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FORCED_MARKER_FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
  // A damaged marker cannot say whether this node was forced already: the operator decides.
  try {
    const marker = JSON.parse(text) as Partial<ForcedMarker>;
    if (isIdList(marker.founders) && Number.isSafeInteger(marker.index) && Number.isSafeInteger(marker.term) && typeof marker.at === 'string')
      return marker as ForcedMarker;
  } catch {
    // Refused below, as a marker of the wrong shape.
  }
  throw new Error(`${FORCED_MARKER_FILE} in the data directory is damaged: delete it to force a new cluster again`);
}

/** Written to a temporary file, synced, renamed, and the directory synced: the marker is whole or absent, and stays after a power loss. */
async function writeMarker(dataDir: string, marker: ForcedMarker): Promise<void> {
  const path = join(dataDir, FORCED_MARKER_FILE);
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDirectory(dataDir);
}

function isIdList(value: unknown): value is NodeId[] {
  return Array.isArray(value) && value.every(isNodeId);
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
