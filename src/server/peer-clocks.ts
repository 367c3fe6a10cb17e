import type { NodeId } from '../raft/index.ts';

/** A peer's reading older than this says nothing about its clock now (it may be paused or gone). */
const FRESH_FOR_MS = 5_000;

/**
 * What each voter's wall clock reads, from the time it stamps on its Raft frames (one-way delay on a
 * LAN is far below any lease). The cluster's time is the median over the voters heard from lately,
 * this node included: a minority whose clocks are set wrong, stepped or drifting, the leader
 * included, cannot move it. With an even count the lower middle is taken, so a disagreement makes
 * leases and delays end late, never early.
 *
 * Readings are kept against this node's monotonic clock, not its wall clock, so that a step of our
 * own wall clock moves only our own vote, at once, and never the others'.
 */
export class PeerClocks {
  /** Per peer: its wall clock minus our monotonic clock, and when we heard it (monotonic). */
  private readonly readings = new Map<NodeId, { baseMs: number; heardAtMono: number }>();
  private bases: number[] = [];

  heard(peer: NodeId, theirWallMs: number, monoMs: number): void {
    if (!Number.isFinite(theirWallMs)) return;
    this.readings.set(peer, { baseMs: theirWallMs - monoMs, heardAtMono: monoMs });
  }

  forget(peer: NodeId): void {
    this.readings.delete(peer);
  }

  /** Chooses the readings that count from now on: fresh ones of the other voters. */
  refresh(self: NodeId, voters: readonly NodeId[], monoMs: number): void {
    const bases: number[] = [];
    for (const voter of voters) {
      const reading = voter === self ? undefined : this.readings.get(voter);
      if (reading !== undefined && monoMs - reading.heardAtMono <= FRESH_FOR_MS) bases.push(reading.baseMs);
    }
    this.bases = bases;
  }

  /** The cluster's wall clock now, given ours. */
  clusterWallMs(wallMs: number, monoMs: number): number {
    const all = [...this.bases, wallMs - monoMs].sort((a, b) => a - b);
    return monoMs + all[Math.floor((all.length - 1) / 2)]!;
  }
}
