import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { NodeId, PersistedState } from '../raft/index.ts';
import type { AckedMark } from './acked-mark.ts';
import { FailpointStorage } from './failpoint-storage.ts';
import type { Failpoints } from './failpoints.ts';
import { LevelStorage } from './level-storage.ts';
import { MARK_FILE_NAME, MarkFile } from './mark-file.ts';
import { MarkedStorage } from './marked-storage.ts';
import { type PowerCut, undoPowerCut } from './power-cut.ts';
import { planStart } from './start-plan.ts';
import { StorageCorruptionError } from './storage-errors.ts';
import type { RaftStorage } from './storage-port.ts';

export interface NodeStorageOptions {
  readonly failpoints?: Failpoints | undefined;
  /** Tests only: journal every write so that `PowerCut.cut()` can lose the ones no fsync covered. */
  readonly powerCut?: PowerCut | undefined;
}

/** What a node finds in its data directory, checked, and the storage to run on from there. */
export interface OpenedStorage {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  /** The state the core starts from; with `recovery` set when the node must be repaired first. */
  readonly persisted: PersistedState;
  /** Snapshots that failed their checksum: skipped, the node rebuilt from an older one. */
  readonly damagedSnapshots: readonly number[];
  /** What the checks found and did, for the log: damage, a discarded log, a restored vote. */
  readonly findings: readonly string[];
}

const NODE_ID_KEY = 'node-id';

/**
 * Opens a node's data directory: its id, its Raft state checked against its acknowledged mark
 * (see `planStart`), and the storage stack it writes through. The id lives in both LevelDB and the
 * mark file: a node that lost one keeps its id (and recovers); a wiped directory gets a fresh one,
 * so it joins as a new member and never votes with the old one's amnesia (RELIABILITY R12).
 */
export async function openNodeStorage(directory: string, options: NodeStorageOptions = {}): Promise<OpenedStorage> {
  // A simulated power cut is finished first: nothing may read what the power did not let reach the disk.
  const powerCutUndone = await undoPowerCut(directory);
  const level = await LevelStorage.open(directory, options.powerCut);
  const { file, contents } = await MarkFile.open(join(directory, MARK_FILE_NAME), options.powerCut);
  const id = await resolveId(level, contents.mark);
  const stored = await level.load();
  const plan = planStart(id, stored, level.damage, contents.mark);
  if (plan.discard) await level.discardAll(plan.persisted.hardState);
  else if (plan.storeHardState) await level.storeHardState(plan.persisted.hardState);
  await file.write(plan.mark);
  const marked = new MarkedStorage(level, file, plan.mark);
  const storage = options.failpoints === undefined ? marked : new FailpointStorage(marked, options.failpoints);
  const findings = [
    ...(powerCutUndone === undefined ? [] : [powerCutUndone]),
    ...(contents.damaged ? ['the acknowledged mark file is damaged: the log is checked on its own'] : []),
    ...plan.findings,
  ];
  return { id, storage, persisted: plan.persisted, damagedSnapshots: [...level.damagedSnapshots], findings };
}

async function resolveId(level: LevelStorage, mark: AckedMark | undefined): Promise<NodeId> {
  const storedBytes = await level.getMeta(NODE_ID_KEY);
  const stored = storedBytes === undefined ? undefined : new TextDecoder().decode(storedBytes);
  if (stored !== undefined && mark !== undefined && stored !== mark.id) {
    throw new StorageCorruptionError(`the data directory holds two node ids (${stored} in the log store, ${mark.id} in the mark): refusing to guess`);
  }
  const id = stored ?? mark?.id ?? randomBytes(6).toString('hex');
  if (stored === undefined) await level.putMeta(NODE_ID_KEY, new TextEncoder().encode(id));
  return id;
}
