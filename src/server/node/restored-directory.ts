import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QueueStateMachine } from '../../queue/index.ts';
import type { NodeId } from '../../raft/index.ts';
import { openNodeStorage, syncDirectory } from '../../storage/index.ts';
import { refoundCluster, refoundedFounders } from '../membership/index.ts';

/** A backup's state (see src/shared/backup-format.ts), checked by the caller against its checksum. */
export interface RestoredState {
  readonly data: Uint8Array;
  readonly index: number;
  readonly term: number;
}

/**
 * Seeds an empty data directory from a backup (`quorumq restore`), offline: a fresh node id, and the
 * Raft state of a new cluster of one at the backup's index, under new founders (the mechanism of
 * `--force-new-cluster`, see `refoundCluster`). A node started on it serves the backup's state and
 * is refused by, and refuses, every node of the cluster the backup came from.
 *
 * The directory is seeded under a temporary name beside `dataDir`, synced, and only then renamed
 * into place (replacing `dataDir` if it exists and is empty), the parent directory synced: a crash
 * leaves `dataDir` either whole or as it was, never half seeded (a leftover `.restoring-` directory
 * beside it may be deleted).
 */
export async function seedRestoredDirectory(dataDir: string, state: RestoredState): Promise<{ id: NodeId; founders: readonly NodeId[] }> {
  // A state that passed its checksum but does not decode (a backup of another version) is refused
  // here, not by the node at its start.
  try {
    new QueueStateMachine().restore(state.data);
  } catch (error) {
    throw new Error(`the backup's state does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const seeding = join(parent, `.${basename(dataDir)}.restoring-${process.pid}`);
  await rm(seeding, { recursive: true, force: true });
  try {
    const opened = await openNodeStorage(seeding);
    let seeded: { id: NodeId; founders: readonly NodeId[] };
    try {
      const founders = refoundedFounders(opened.id);
      await refoundCluster(opened.storage, { id: opened.id, data: state.data, index: state.index, term: state.term, founders });
      seeded = { id: opened.id, founders };
    } finally {
      await opened.storage.close();
    }
    await syncDirectory(seeding);
    await rename(seeding, dataDir);
    await syncDirectory(parent);
    return seeded;
  } catch (error) {
    await rm(seeding, { recursive: true, force: true });
    throw error;
  }
}
