import type { NodeId } from '../../raft/index.ts';
import type { NodeClock } from './node-clock.ts';
import { PeerClocks } from './peer-clocks.ts';

/**
 * The clocks a node's parts read: its own (skewable in tests, see `NodeClock`) and the cluster's
 * wall clock, the median of what the voters' Raft frames say (see `PeerClocks`).
 */
export class ClusterClock {
  private readonly peers = new PeerClocks();

  constructor(readonly local: NodeClock) {}

  /** This node's wall clock: what its outgoing Raft frames carry. */
  wallMs(): number {
    return this.local.wallMs();
  }

  /** A clock for local waits, which no step of the wall clock may cut short. */
  monoMs(): number {
    return this.local.monoMs();
  }

  /** The cluster's wall clock: what a leader stamps entries with. */
  clusterWallMs(): number {
    return this.peers.clusterWallMs(this.local.wallMs(), this.local.monoMs());
  }

  heard(peer: NodeId, theirWallMs: number): void {
    this.peers.heard(peer, theirWallMs, this.local.monoMs());
  }

  forget(peer: NodeId): void {
    this.peers.forget(peer);
  }

  /** The voters changed or time passed: whose clocks count, and how old a reading may be. */
  refresh(self: NodeId, voters: readonly NodeId[]): void {
    this.peers.refresh(self, voters);
  }
}
