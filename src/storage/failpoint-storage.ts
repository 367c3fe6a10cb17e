import type { HardState, PersistedState, Ready, Snapshot } from '../raft/index.ts';
import type { Failpoints } from './failpoints.ts';
import type { RaftStorage } from './storage-port.ts';

/**
 * Puts crash points around the writes the protocol depends on: a ready that records a vote (a new
 * term or vote), one that appends entries, and snapshots (taken locally or received). "after" fires
 * once the write is durable and before anything that depends on it (an ack, a vote) has left.
 */
export class FailpointStorage implements RaftStorage {
  private term = 0;
  private vote = '';

  constructor(
    private readonly inner: RaftStorage,
    private readonly failpoints: Failpoints,
  ) {}

  async load(): Promise<PersistedState> {
    const state = await this.inner.load();
    this.remember(state.hardState);
    return state;
  }

  async save(ready: Ready): Promise<void> {
    const votes = ready.hardState !== undefined && (ready.hardState.term !== this.term || ready.hardState.vote !== this.vote);
    const appends = ready.entries.length > 0;
    const snapshot = ready.snapshot !== undefined;
    if (votes) this.failpoints.hit('before-vote-sync');
    if (appends) this.failpoints.hit('before-append-sync');
    if (snapshot) this.failpoints.hit('before-snapshot-save');
    await this.inner.save(ready);
    if (ready.hardState !== undefined) this.remember(ready.hardState);
    if (votes) this.failpoints.hit('after-vote-sync');
    if (appends) this.failpoints.hit('after-append-sync');
    if (snapshot) this.failpoints.hit('after-snapshot-save');
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.failpoints.hit('before-snapshot-save');
    await this.inner.saveSnapshot(snapshot);
    this.failpoints.hit('after-snapshot-save');
  }

  getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.inner.getMeta(key);
  }

  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.inner.putMeta(key, value);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private remember(hardState: HardState): void {
    this.term = hardState.term;
    this.vote = hardState.vote;
  }
}
