import { randomBytes } from 'node:crypto';
import type { NodeId, PersistedState } from '../raft/index.ts';
import { FailpointStorage } from './failpoint-storage.ts';
import type { Failpoints } from './failpoints.ts';
import { LevelStorage } from './level-storage.ts';
import type { RaftStorage } from './storage-port.ts';

export interface NodeStorageOptions {
  readonly failpoints?: Failpoints | undefined;
}

/** What a node finds in its data directory, checked, and the storage to run on from there. */
export interface OpenedStorage {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly persisted: PersistedState;
  /** Snapshots that failed their checksum: skipped, the node rebuilt from an older one. */
  readonly damagedSnapshots: readonly number[];
}

const NODE_ID_KEY = 'node-id';

/**
 * Opens a node's data directory: its id (created on first start, so a wiped directory is a new
 * member, never the old one with amnesia), its Raft state, and the storage stack the node writes
 * through.
 */
export async function openNodeStorage(directory: string, options: NodeStorageOptions = {}): Promise<OpenedStorage> {
  const level = await LevelStorage.open(directory);
  const id = await loadOrCreateId(level);
  const persisted = await level.load();
  const storage = options.failpoints === undefined ? level : new FailpointStorage(level, options.failpoints);
  return { id, storage, persisted, damagedSnapshots: [...level.damagedSnapshots] };
}

async function loadOrCreateId(storage: LevelStorage): Promise<NodeId> {
  const stored = await storage.getMeta(NODE_ID_KEY);
  if (stored !== undefined) return new TextDecoder().decode(stored);
  const id = randomBytes(6).toString('hex');
  await storage.putMeta(NODE_ID_KEY, new TextEncoder().encode(id));
  return id;
}
