import { Inflights } from './inflights.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The leader's view of one follower. In `probe` the leader sends one append at a time until it
 * finds where the logs match; in `replicate` it pipelines appends optimistically; in `snapshot` it
 * waits for a snapshot to be installed.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append is out and unanswered. */
  probeSent = false;
  pendingSnapshot = 0;
  snapshotSentTick = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** The follower says it is recovering lost data: its acknowledgements do not count toward a commit. */
  recovering = false;
  readonly inflights: Inflights;

  constructor(next: number, inflightsMax: number, inflightBytesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightsMax, inflightBytesMax);
  }

  becomeProbe(): void {
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.resetFlow();
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.state = 'replicate';
    this.resetFlow();
  }

  becomeSnapshot(snapshotIndex: number, tick: number): void {
    this.state = 'snapshot';
    this.resetFlow();
    this.pendingSnapshot = snapshotIndex;
    this.snapshotSentTick = tick;
  }

  /**
   * The follower lost entries it had acknowledged: `match` no longer holds, and a rejection at or
   * below it (ignored as stale in replicate) is now the truth. Probing starts again from `next`.
   */
  forgetMatch(next: number): void {
    this.match = 0;
    this.next = next;
    this.state = 'probe';
    this.resetFlow();
  }

  /** A successful acknowledgement up to `index`; false when it taught nothing new (stale). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append whose previous index was `rejected`. Returns false for a stale
   * rejection, which must not move `next` back (out-of-order responses are normal when pipelining).
   */
  maybeDecreaseTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  onAppendSent(lastEntryIndex: number | undefined, bytes: number): void {
    if (this.state === 'replicate') {
      if (lastEntryIndex === undefined) return;
      this.next = lastEntryIndex + 1;
      this.inflights.add(lastEntryIndex, bytes);
      return;
    }
    this.probeSent = true;
  }

  private resetFlow(): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
