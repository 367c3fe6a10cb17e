import type { PersistedState, Ready, Snapshot } from '../raft/index.ts';

/**
 * Where a node keeps its Raft state. `save` writes one ready batch atomically (synced when the ready
 * says so) and resolves only once it is durable: the caller sends the ready's messages after that.
 */
export interface RaftStorage {
  load(): Promise<PersistedState>;
  save(ready: Ready): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  getMeta(key: string): Promise<Uint8Array | undefined>;
  putMeta(key: string, value: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
