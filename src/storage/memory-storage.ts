import type { Entry, HardState, PersistedState, Ready, Snapshot } from '../raft/index.ts';
import type { RaftStorage } from './storage-port.ts';

/** The same port kept in memory, for unit tests of the layers above storage. */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: '', commit: 0 };
  private snapshot: Snapshot | undefined;
  private entries: Entry[] = [];
  private meta = new Map<string, Uint8Array>();

  async load(): Promise<PersistedState> {
    const base = { hardState: this.hardState, entries: [...this.entries] };
    return this.snapshot === undefined ? base : { ...base, snapshot: this.snapshot };
  }

  async save(ready: Ready): Promise<void> {
    if (ready.snapshot !== undefined) {
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    if (ready.entries.length > 0) {
      const base = this.snapshot?.meta.index ?? 0;
      this.entries = [...this.entries.slice(0, ready.entries[0]!.index - base - 1), ...ready.entries];
    }
    if (ready.hardState !== undefined) this.hardState = ready.hardState;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const base = this.snapshot?.meta.index ?? 0;
    this.entries = this.entries.slice(snapshot.meta.index - base);
    this.snapshot = snapshot;
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.meta.get(key);
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    this.meta.set(key, value);
  }

  async close(): Promise<void> {}
}
