import type { NodeId } from '../../raft/index.ts';
import { sortNumbersInPlace } from '../../shared/index.ts';

/** A peer's reading older than this says nothing about its clock now (it may be paused or gone). */
const FRESH_FOR_MS = 5_000;
/** Readings are filtered over windows this long (see `heard`). */
const WINDOW_MS = 1_000;

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
  /** Per peer: its wall clock minus our monotonic clock (best of this window and the last), and when we heard it. */
  private readonly readings = new Map<NodeId, Reading>();
  /** The other voters, as of the last `refresh`. */
  private others: readonly NodeId[] = [];

  /**
   * A frame's time in transit, or waiting for our event loop, makes the peer's clock look behind by
   * that much, never ahead: so the highest reading of the last one to two seconds is the truest
   * (NTP's minimum-delay filter). Trusting a delayed one would let the cluster's time fall behind
   * and then catch up, which shortens the leases granted meanwhile.
   */
  heard(peer: NodeId, theirWallMs: number, monoMs: number): void {
    if (!Number.isFinite(theirWallMs)) return;
    const baseMs = theirWallMs - monoMs;
    const reading = this.readings.get(peer);
    if (reading === undefined || monoMs - reading.windowStartMono >= 2 * WINDOW_MS) {
      this.readings.set(peer, { current: baseMs, previous: baseMs, windowStartMono: monoMs, heardAtMono: monoMs });
      return;
    }
    if (monoMs - reading.windowStartMono >= WINDOW_MS) {
      reading.previous = reading.current;
      reading.current = baseMs;
      reading.windowStartMono = monoMs;
    } else reading.current = Math.max(reading.current, baseMs);
    reading.heardAtMono = monoMs;
  }

  forget(peer: NodeId): void {
    this.readings.delete(peer);
  }

  /** Which voters count: the configuration changes rarely, readings with every frame. */
  refresh(self: NodeId, voters: readonly NodeId[]): void {
    this.others = voters.filter((voter) => voter !== self);
  }

  /**
   * The cluster's wall clock now, given ours. Readings are chosen here, not ahead of time: a leader
   * stamps its first entries within milliseconds of hearing its voters, and must not stamp them
   * with its own clock alone for want of a refresh.
   */
  clusterWallMs(wallMs: number, monoMs: number): number {
    const bases = [wallMs - monoMs];
    for (const voter of this.others) {
      const reading = this.readings.get(voter);
      if (reading !== undefined && monoMs - reading.heardAtMono <= FRESH_FOR_MS) bases.push(Math.max(reading.current, reading.previous));
    }
    sortNumbersInPlace(bases);
    return monoMs + bases[Math.floor((bases.length - 1) / 2)]!;
  }
}

interface Reading {
  current: number;
  previous: number;
  windowStartMono: number;
  heardAtMono: number;
}
