import type { Entry, HardState, PersistedState, Ready, Snapshot } from '../../src/raft/index.ts';

interface DiskState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/**
 * A node's disk with a page cache: a write without sync survives a process crash only if a later
 * synced write covers it. `powerLoss()` keeps what was synced and nothing else — the harshest crash.
 */
export class SimDisk {
  private current: DiskState;
  private durable: DiskState;

  constructor(initial: PersistedState) {
    this.durable = {
      hardState: initial.hardState,
      snapshot: initial.snapshot,
      entries: [...initial.entries],
    };
    this.current = copy(this.durable);
  }

  /** Writes what a ready asks to persist, in the order the Ready contract gives. */
  write(ready: Ready): void {
    const state = this.current;
    if (ready.snapshot !== undefined) {
      state.snapshot = ready.snapshot;
      state.entries = [];
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!.index;
      const base = state.snapshot?.meta.index ?? 0;
      state.entries = state.entries.slice(0, Math.max(0, first - base - 1));
      state.entries.push(...ready.entries);
    }
    if (ready.hardState !== undefined) state.hardState = ready.hardState;
    if (ready.mustSync) this.durable = copy(state);
  }

  /** Installs a snapshot taken locally and drops the entries it covers, synced. */
  saveSnapshot(snapshot: Snapshot): void {
    const state = this.current;
    const base = state.snapshot?.meta.index ?? 0;
    state.entries = state.entries.slice(snapshot.meta.index - base);
    state.snapshot = snapshot;
    this.durable = copy(state);
  }

  /** What a power loss now would leave. */
  get synced(): Readonly<DiskState> { return this.durable; }

  powerLoss(): void {
    this.current = copy(this.durable);
  }

  load(): PersistedState {
    const state = this.current;
    return state.snapshot === undefined
      ? { hardState: state.hardState, entries: [...state.entries] }
      : { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
  }
}

function copy(state: DiskState): DiskState {
  return { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
}
