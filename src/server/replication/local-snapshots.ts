import type { Logger } from 'pino';
import type { Raft, Snapshot, SnapshotMeta } from '../../raft/index.ts';

export interface LocalSnapshotsOptions {
  /** Applied entries between snapshots. */
  readonly entriesBetween: number;
  /** Applied log bytes between snapshots, whichever of the two comes first. */
  readonly bytesBetween: number;
  /** Runs `input` on the core between ready batches. */
  readonly submit: (input: (raft: Raft) => void) => void;
  /** The applied index and the queues' state at it: read together, between ready batches. */
  readonly appliedIndex: () => number;
  readonly encodeState: () => StateEncoding;
  readonly save: (snapshot: Snapshot) => Promise<void>;
  readonly onSaveFailed: (error: unknown) => void;
  readonly log: Logger;
  /** Draws each interval's stagger (see `STAGGER_SHARE`); `Math.random` unless a test fixes it. */
  readonly random?: () => number;
}

/** The queues' state taken at one applied index, encoded a slice per `step` (see `SlicedEncoding`). */
export interface StateEncoding {
  /** Encodes the next slice; true once all is encoded. */
  step(): boolean;
  bytes(): Uint8Array;
  /** The encoding is dropped unfinished: what it holds of the live state is let go. */
  release(): void;
}

/**
 * Each interval is cut short by a random share of up to this, drawn per node and per interval: the
 * nodes apply the same entries, and would otherwise all snapshot at the same one. A snapshot costs
 * a node CPU and a large synced write; one follower's slowness is covered by the other, three nodes
 * at once on shared cores are not (when encoding still held the event loop, up to 60 ms in W2).
 */
const STAGGER_SHARE = 0.25;
/** How far a large snapshot may stretch the log kept between snapshots (see `bytesBetween`). */
const LOG_BYTES_STRETCH_MAX = 8;

/**
 * Snapshots the queues at the applied index and drops the log below it, so disk use and restart
 * time follow the backlog, not the history. Only taking the state runs between ready batches (it
 * must see the state at one index); it is encoded a slice per turn of the event loop, written beside
 * the ready loop, and the in-memory log is compacted once the snapshot is durable.
 */
export class LocalSnapshots {
  taken = 0;
  installed = 0;
  /** Size of the newest snapshot taken or installed. */
  bytes = 0;
  private index = 0;
  private pending = false;
  /** Log bytes applied since the last snapshot: the in-memory log is bounded by bytes as well as entries. */
  private bytesSince = 0;
  /** This interval's share of `entriesBetween` and `bytesBetween`. */
  private intervalShare = 1;
  /** Bumped whenever the queues are replaced: a snapshot being encoded from the old ones is dropped. */
  private generation = 0;
  /** A local snapshot is being encoded, or waits to start its save. */
  private encoding = false;

  constructor(private readonly options: LocalSnapshotsOptions) {
    this.drawInterval();
  }

  get snapshotIndex(): number {
    return this.index;
  }

  /** Starts over from the snapshot storage holds: at start, and after storage is reopened. */
  reset(index: number): void {
    this.index = index;
    this.bytesSince = 0;
    this.pending = false;
    this.encoding = false;
    this.generation++;
    this.drawInterval();
  }

  onApplied(appliedIndex: number, entryBytes: number): void {
    this.bytesSince += entryBytes;
    const share = this.intervalShare;
    if (appliedIndex - this.index >= this.options.entriesBetween * share || this.bytesSince >= this.bytesBetween() * share) this.take();
  }

  /**
   * Log bytes between snapshots: `bytesBetween`, or half the last snapshot's size when that is more,
   * up to LOG_BYTES_STRETCH_MAX times `bytesBetween`. Each snapshot writes the whole backlog, so at
   * a fixed interval the disk work per byte logged grows with the backlog (a 300 MB backlog
   * rewritten every 16 MiB kept both cores and the disk busy enough for leaders to miss heartbeats);
   * the cap bounds the log held in memory between snapshots.
   */
  private bytesBetween(): number {
    const base = this.options.bytesBetween;
    return Math.min(Math.max(base, this.bytes / 2), base * LOG_BYTES_STRETCH_MAX);
  }

  /** A snapshot from the leader replaced the queues. */
  onInstalled(snapshot: Snapshot): void {
    this.drawInterval();
    if (this.encoding) {
      // A local snapshot still being encoded describes the queues the installed one replaced.
      this.generation++;
      this.encoding = false;
      this.pending = false;
    }
    this.index = snapshot.meta.index;
    this.installed++;
    this.bytes = snapshot.data.length;
  }

  private drawInterval(): void {
    this.intervalShare = 1 - (this.options.random ?? Math.random)() * STAGGER_SHARE;
  }

  private take(): void {
    if (this.pending) return;
    this.pending = true;
    this.options.submit((raft) => {
      const index = this.options.appliedIndex();
      // The core may have moved past what this node applied: a snapshot from the leader stepped
      // into it since the take was asked for (inputs queue up behind a pause or a slow write) and
      // not applied here yet. This node's state is then about to be replaced; a snapshot of it would
      // describe a log the core no longer holds.
      const core = raft.status();
      if (index <= this.index || index < core.firstIndex - 1 || index > core.applied) {
        this.pending = false;
        return;
      }
      void this.encodeAndSave(raft.snapshotMetaAt(index), this.options.encodeState());
    });
  }

  /**
   * Encodes one slice per turn of the event loop, so that Raft and clients are served in between,
   * then saves. Dropped if the queues were replaced meanwhile (a snapshot from the leader installed,
   * storage reopened): it would describe a state the node no longer holds.
   */
  private async encodeAndSave(meta: SnapshotMeta, encoding: StateEncoding): Promise<void> {
    const generation = this.generation;
    this.encoding = true;
    while (!encoding.step()) {
      await new Promise((resolve) => setImmediate(resolve));
      if (generation !== this.generation) {
        encoding.release();
        return;
      }
    }
    const data = encoding.bytes();
    // The save starts between ready batches, as an install's does: a snapshot from the leader then
    // either comes after it (and storage orders the writes) or has already dropped it.
    this.options.submit(() => {
      if (generation !== this.generation) return;
      this.encoding = false;
      const snapshot: Snapshot = { meta, data };
      this.options.save(snapshot).then(
        () => this.options.submit((current) => this.compactTo(current, snapshot)),
        (error: unknown) => this.options.onSaveFailed(error),
      );
    });
  }

  private compactTo(raft: Raft, snapshot: Snapshot): void {
    this.pending = false;
    // A snapshot installed from the leader meanwhile may already cover this one.
    if (snapshot.meta.index <= raft.status().firstIndex - 1) return;
    raft.compact(snapshot);
    this.index = snapshot.meta.index;
    this.bytesSince = 0;
    this.drawInterval();
    this.taken++;
    this.bytes = snapshot.data.length;
    this.options.log.debug({ index: snapshot.meta.index, bytes: snapshot.data.length }, 'snapshot taken, log compacted');
  }
}
