import { assert } from '../shared/index.ts';
import { reaches } from './log-position.ts';
import { EMPTY_MEMBERSHIP } from './membership.ts';
import type { Entry, LogPosition, Membership, PersistedState, Snapshot, SnapshotMeta } from './types.ts';

/** Bytes an entry weighs for flow control: its payload plus a fixed allowance for its header. */
export function entryBytes(entry: Entry): number {
  return entry.data.length + 24;
}

/**
 * The node's log, kept whole in memory from the last snapshot on (storage reads are asynchronous, the
 * core is not). Entries above `stableIndex` are not yet on disk; `ready()` hands them out.
 */
export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0/0 without one). */
  private snapshotIndex: number;
  private snapshotTerm: number;
  private snapshotMembership: Membership;
  private entries: Entry[];
  /** Indexes of config entries in `entries`, ascending: the membership is the newest of them. */
  private configIndexes: number[] = [];
  stableIndex: number;
  committed: number;
  /** The last index handed to the application. */
  applied: number;
  /** A snapshot received from the leader, to be persisted and installed by the next ready. */
  pendingSnapshot: Snapshot | undefined;

  constructor(state: PersistedState) {
    const meta = state.snapshot?.meta;
    this.snapshotIndex = meta?.index ?? 0;
    this.snapshotTerm = meta?.term ?? 0;
    this.snapshotMembership = meta?.membership ?? EMPTY_MEMBERSHIP;
    this.entries = [...state.entries];
    this.entries.forEach((entry, offset) => {
      assert(entry.index === this.snapshotIndex + 1 + offset, 'persisted log must be contiguous');
      if (entry.kind === 'config') this.configIndexes.push(entry.index);
    });
    this.stableIndex = this.lastIndex();
    this.committed = Math.max(state.hardState.commit, this.snapshotIndex);
    assert(this.committed <= this.lastIndex(), 'persisted commit index beyond the persisted log');
    this.applied = this.snapshotIndex;
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    return this.entry(index)?.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Whether the durable log has caught up with `lost`, a log end the disk lost (see `reaches`). */
  stableReaches(lost: LogPosition): boolean {
    return reaches({ index: this.stableIndex, term: this.term(this.stableIndex) ?? 0 }, lost);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a voter's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  membership(): Membership {
    const index = this.membershipIndex();
    if (index === this.snapshotIndex) return this.snapshotMembership;
    return this.entry(index)!.membership!;
  }

  /** The index of the entry that set the current membership (the snapshot's index if none since). */
  membershipIndex(): number {
    return this.configIndexes[this.configIndexes.length - 1] ?? this.snapshotIndex;
  }

  membershipAt(index: number): Membership {
    let found: number | undefined;
    for (const configIndex of this.configIndexes) if (configIndex <= index) found = configIndex;
    return found === undefined ? this.snapshotMembership : this.entry(found)!.membership!;
  }

  /**
   * Follower side of AppendEntries. Entries that are already present are kept: only a conflict (same
   * index, other term) truncates, so a stale or duplicated append never removes acknowledged entries.
   * Returns the index of the last entry the leader sent, or undefined when `prevIndex` does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNewIndex = prevIndex + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, 'conflict with a committed entry');
      this.truncateAndAppend(entries.slice(conflictIndex - prevIndex - 1));
    }
    // Only what the leader has shown us to match may be committed: our own tail may diverge.
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  /** The first index whose entry differs from ours (or is new), or 0 if we hold them all. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index at or below `index` whose term is at most `term`, with its term: the place a
   * probe may match, skipping a whole term of conflicting entries per round trip.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let candidate = Math.min(index, this.lastIndex());
    while (candidate > this.snapshotIndex) {
      const candidateTerm = this.term(candidate)!;
      if (candidateTerm <= term) return [candidate, candidateTerm];
      candidate--;
    }
    return [candidate, candidate === this.snapshotIndex ? this.snapshotTerm : 0];
  }

  /** Leader side: append fresh entries at the end. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    assert(entries[0]!.index === this.lastIndex() + 1, 'append must extend the log');
    for (const entry of entries) {
      this.entries.push(entry);
      if (entry.kind === 'config') this.configIndexes.push(entry.index);
    }
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const from = entries[0]!.index;
    assert(from > this.snapshotIndex && from <= this.lastIndex() + 1, 'truncation outside the log');
    this.entries.length = from - this.snapshotIndex - 1;
    while (this.configIndexes.length > 0 && this.configIndexes[this.configIndexes.length - 1]! >= from) {
      this.configIndexes.pop();
    }
    this.stableIndex = Math.min(this.stableIndex, from - 1);
    this.append(entries);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries from the first unstable one on: storage replaces its log from the first one's index. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stableIndex - this.snapshotIndex);
  }

  stableTo(index: number, term: number): void {
    // A truncation after the entries were handed out makes this persisted copy stale: ignore it.
    if (this.matchTerm(index, term) && index > this.stableIndex) this.stableIndex = index;
  }

  /** Committed entries the application has not been given, in order. */
  nextCommittedEntries(maxCount: number): Entry[] {
    if (this.pendingSnapshot !== undefined) return [];
    const from = this.applied + 1;
    const to = Math.min(this.committed, this.applied + maxCount);
    if (to < from) return [];
    return this.slice(from, to + 1);
  }

  appliedTo(index: number): void {
    assert(index >= this.applied && index <= this.committed, 'applied index out of order');
    this.applied = index;
  }

  /** Entries in [from, to), at most `maxCount` and `maxBytes` (always at least one). */
  slice(from: number, to: number, maxCount = Infinity, maxBytes = Infinity): Entry[] {
    assert(from > this.snapshotIndex, 'slice of compacted entries');
    const end = Math.min(to, this.lastIndex() + 1, from + maxCount);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = from; index < end; index++) {
      const entry = this.entry(index)!;
      bytes += entryBytes(entry);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  snapshotMetaAt(index: number): SnapshotMeta {
    assert(index >= this.snapshotIndex && index <= this.applied, 'snapshot index outside the applied log');
    return { index, term: this.term(index)!, membership: this.membershipAt(index) };
  }

  /** Drops entries covered by a snapshot the caller has already persisted. */
  compact(meta: SnapshotMeta): void {
    assert(meta.index > this.snapshotIndex && meta.index <= this.applied, 'compaction outside the applied log');
    assert(this.term(meta.index) === meta.term, 'compaction term mismatch');
    this.entries = this.entries.slice(meta.index - this.snapshotIndex);
    this.configIndexes = this.configIndexes.filter((index) => index > meta.index);
    this.snapshotIndex = meta.index;
    this.snapshotTerm = meta.term;
    this.snapshotMembership = meta.membership;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    const meta = snapshot.meta;
    assert(meta.index > this.committed, 'restore must move the log forward');
    this.entries = [];
    this.configIndexes = [];
    this.snapshotIndex = meta.index;
    this.snapshotTerm = meta.term;
    this.snapshotMembership = meta.membership;
    this.stableIndex = meta.index;
    this.committed = meta.index;
    this.applied = meta.index;
    this.pendingSnapshot = snapshot;
  }
}
