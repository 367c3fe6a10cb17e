import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeId, PersistedState } from '../raft/index.ts';
import { isNodeId } from '../shared/index.ts';
import type { AckedMark } from './acked-mark.ts';
import type { DiskFaults } from './disk-faults.ts';
import { FailpointStorage } from './failpoint-storage.ts';
import type { Failpoints } from './failpoints.ts';
import { GuardedStorage } from './guarded-storage.ts';
import { LevelStorage } from './level-storage.ts';
import { MARK_FILE_NAME, MarkFile } from './mark-file.ts';
import { MarkedStorage } from './marked-storage.ts';
import { POWER_CUT_FILE, type PowerCut, undoPowerCut } from './power-cut.ts';
import { planStart } from './start-plan.ts';
import { describeError, isDiskRefusal, StorageCorruptionError } from './storage-errors.ts';
import type { RaftStorage } from './storage-port.ts';

export interface NodeStorageOptions {
  readonly failpoints?: Failpoints | undefined;
  /** Tests only: journal every write so that `PowerCut.cut()` can lose the ones no fsync covered. */
  readonly powerCut?: PowerCut | undefined;
  /** Tests only: writes fail while a disk fault is set. */
  readonly diskFaults?: DiskFaults | undefined;
  /** LevelDB reported its own files corrupt while running: move the store aside and recover. */
  readonly discardStore?: boolean;
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
  await mkdir(directory, { recursive: true });
  const powerCutUndone = await undoPowerCut(directory);
  const { file, contents } = await MarkFile.open(join(directory, MARK_FILE_NAME), options.powerCut);
  const discarded = options.discardStore === true ? await discardStore(directory) : undefined;
  const opened = await openLogStore(directory, options.powerCut, contents.mark?.id);
  const { level, stored } = opened;
  const unreadable = discarded ?? opened.unreadable;
  const id = await resolveId(level, contents.mark);
  const plan = planStart(id, stored, unreadable === undefined ? level.damage : [unreadable, ...level.damage], contents.mark);
  if (plan.discard) await level.discardAll(plan.persisted.hardState);
  else if (plan.storeHardState) await level.storeHardState(plan.persisted.hardState);
  await file.write(plan.mark);
  const marked = new MarkedStorage(level, file, plan.mark);
  const crashing = options.failpoints === undefined ? marked : new FailpointStorage(marked, options.failpoints);
  const storage = new GuardedStorage(crashing, options.diskFaults);
  const findings = [
    ...(powerCutUndone === undefined ? [] : [powerCutUndone]),
    ...(contents.damaged ? ['the acknowledged mark file is damaged: the log is checked on its own'] : []),
    ...(contents.slotDamaged ? ['one slot of the acknowledged mark file is unreadable (a torn write or damage): the other was used'] : []),
    ...plan.findings,
  ];
  return { id, storage, persisted: plan.persisted, damagedSnapshots: [...level.damagedSnapshots], findings };
}

/** Where a log store LevelDB could not read is moved, replacing the one moved there before. */
const DAMAGED_STORE_DIR = 'damaged-store';

/**
 * Opens and loads LevelDB. A store LevelDB itself cannot read (a truncated manifest or table) is
 * moved aside and an empty one started: the mark then decides whether that lost anything.
 */
async function openLogStore(
  directory: string,
  powerCut: PowerCut | undefined,
  markId: NodeId | undefined,
): Promise<{ level: LevelStorage; stored: PersistedState; unreadable?: string }> {
  let level: LevelStorage | undefined;
  try {
    level = await LevelStorage.open(directory, powerCut);
    // Anything but a refusing disk that stops the load is damage: LevelDB does not check every
    // block's checksum, so a flipped bit may surface as a malformed key or an undecodable value.
    const stored = await level.load().catch((error: unknown) => {
      throw isDiskRefusal(error) || error instanceof StorageCorruptionError
        ? error
        : new StorageCorruptionError(`the log store does not decode: ${describeError(error)}`);
    });
    await level.verifyReadable();
    await checkOwner(level, markId);
    return { level, stored };
  } catch (error) {
    await level?.close().catch(() => undefined);
    if (!isDamagedStore(error)) throw error;
    await moveStoreAside(directory);
    const fresh = await LevelStorage.open(directory, powerCut);
    return {
      level: fresh,
      stored: await fresh.load(),
      unreadable: `the log store could not be read (${describeError(error)}): moved to ${DAMAGED_STORE_DIR}/`,
    };
  }
}

/**
 * LevelDB's corruption, and the I/O errors a truncated table gives ("Invalid argument"); not a
 * full disk, a held lock or missing permissions, which say nothing about the data.
 */
function isDamagedStore(error: unknown): boolean {
  if (error instanceof StorageCorruptionError) return true;
  const codes = [errorCode(error), errorCode((error as { cause?: unknown }).cause)];
  if (codes.includes('LEVEL_CORRUPTION')) return true;
  if (!codes.includes('LEVEL_IO_ERROR')) return false;
  return !/no space|lock|too many open files|permission|read-only/i.test(describeError(error));
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

async function discardStore(directory: string): Promise<string> {
  await moveStoreAside(directory);
  return `the log store reported corruption while running: moved to ${DAMAGED_STORE_DIR}/`;
}

async function moveStoreAside(directory: string): Promise<void> {
  const aside = join(directory, DAMAGED_STORE_DIR);
  await rm(aside, { recursive: true, force: true });
  await mkdir(aside);
  for (const name of await readdir(directory)) {
    if (name === MARK_FILE_NAME || name === POWER_CUT_FILE || name === DAMAGED_STORE_DIR) continue;
    await rename(join(directory, name), join(aside, name));
  }
}

/**
 * The mark is checksummed and the store's copy of the id is not: a store that names another node
 * (damaged, or not this node's) is not used. It is moved aside and the node recovers under the
 * mark's id, never voting on another node's log.
 */
async function checkOwner(level: LevelStorage, markId: NodeId | undefined): Promise<void> {
  const stored = await storedId(level);
  if (stored !== undefined && markId !== undefined && stored !== markId) {
    throw new StorageCorruptionError(`the log store names node ${stored}, the acknowledged mark ${markId}`);
  }
}

/** The id the store holds; one that is no node id (damaged: nothing checksums it) makes the store unusable. */
async function storedId(level: LevelStorage): Promise<NodeId | undefined> {
  const bytes = await level.getMeta(NODE_ID_KEY);
  if (bytes === undefined) return undefined;
  const id = new TextDecoder().decode(bytes);
  if (!isNodeId(id)) throw new StorageCorruptionError(`the log store's node id is not a node id (${bytes.length} bytes)`);
  return id;
}

async function resolveId(level: LevelStorage, mark: AckedMark | undefined): Promise<NodeId> {
  const stored = await storedId(level);
  const id = stored ?? mark?.id ?? randomBytes(6).toString('hex');
  if (stored === undefined) await level.putMeta(NODE_ID_KEY, new TextEncoder().encode(id));
  return id;
}
