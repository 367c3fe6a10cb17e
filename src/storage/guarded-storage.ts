import type { PersistedState, Ready, Snapshot } from '../raft/index.ts';
import { AssertionError } from '../shared/index.ts';
import type { DiskFaults } from './disk-faults.ts';
import { StorageWriteError } from './storage-errors.ts';
import type { RaftStorage } from './storage-port.ts';

/**
 * The outermost layer of a node's storage: every failed write comes out as a `StorageWriteError`,
 * which the node treats as disk trouble (stop acknowledging, wait, reopen) rather than as a bug to
 * crash on. A failed assertion is not disk trouble: it is our bug, and goes on up as it is, so the
 * node stops (crash-only) instead of reopening the same storage in a loop. Injected disk faults
 * (tests) fail the write here, before it reaches anything below.
 */
export class GuardedStorage implements RaftStorage {
  constructor(
    private readonly inner: RaftStorage,
    private readonly faults: DiskFaults | undefined,
  ) {}

  load(): Promise<PersistedState> {
    return this.inner.load();
  }

  save(ready: Ready): Promise<void> {
    // A ready that needs no sync writes nothing (a new commit index rides with the next write), so
    // an injected fault, like a real one, has nothing to act on.
    return this.guard('writing the log', () => this.inner.save(ready), ready.mustSync);
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.guard('writing a snapshot', () => this.inner.saveSnapshot(snapshot));
  }

  getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.inner.getMeta(key);
  }

  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.guard(`writing ${key}`, () => this.inner.putMeta(key, value));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async guard(operation: string, write: () => Promise<void>, touchesDisk = true): Promise<void> {
    try {
      if (this.faults !== undefined && touchesDisk) await this.faults.check(operation);
      await write();
    } catch (error) {
      if (error instanceof AssertionError || error instanceof StorageWriteError) throw error;
      throw new StorageWriteError(operation, error);
    }
  }
}
