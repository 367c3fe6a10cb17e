import type { Entry, HardState, NodeId, PersistedState, Ready, Snapshot } from '../../src/raft/index.ts';
import { type AckedMark, lastPosition, markFor, settledMark } from '../../src/storage/acked-mark.ts';

interface DiskState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/**
 * A node's disk with a page cache: a write without sync survives a process crash only if a later
 * synced write covers it. `powerLoss()` keeps what was synced and nothing else — the harshest crash.
 * Beside it, the node's acknowledged mark (its own small file, synced with each write that changes
 * it), which the server keeps outside LevelDB so that damage to one is caught by the other.
 */
export class SimDisk {
  private current: DiskState;
  private durable: DiskState;
  private durableMark: AckedMark;

  constructor(id: NodeId, initial: PersistedState) {
    this.durable = {
      hardState: initial.hardState,
      snapshot: initial.snapshot,
      entries: [...initial.entries],
    };
    this.current = copy(this.durable);
    const last = lastPosition(initial);
    this.durableMark = { id, term: initial.hardState.term, vote: initial.hardState.vote, previous: last, current: last };
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
    if (ready.mustSync) {
      this.durable = copy(state);
      this.writeMark(ready);
    }
  }

  /** The mark of a write that the crash tore: the mark file landed, the batch beside it did not. */
  writeMark(ready: Ready): void {
    this.durableMark = markFor(this.durableMark, ready) ?? this.durableMark;
  }

  /** The writes paused long enough for the storage to settle the mark (the last write is then covered too). */
  settleMark(): void {
    this.durableMark = settledMark(this.durableMark) ?? this.durableMark;
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
  get synced(): Readonly<DiskState> {
    return this.durable;
  }

  get mark(): AckedMark {
    return this.durableMark;
  }

  powerLoss(): void {
    this.current = copy(this.durable);
  }

  /**
   * Damage found at start: the store keeps only its first `keep` entries after the snapshot, or
   * loses the snapshot too (`keep` < 0), as LevelDB silently drops damaged records (RELIABILITY
   * R11). Only for a stopped node.
   */
  truncate(keep: number): void {
    if (keep < 0) this.durable = { hardState: this.durable.hardState, snapshot: undefined, entries: [] };
    else this.durable = { ...this.durable, entries: this.durable.entries.slice(0, keep) };
    this.current = copy(this.durable);
  }

  /** What the node's storage does when it starts from `state` after checking the disk: stores it, synced. */
  restartFrom(state: PersistedState, mark: AckedMark): void {
    this.durable = { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
    this.current = copy(this.durable);
    this.durableMark = mark;
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
