import type { NodeId } from '../../raft/index.ts';

/** Peers remembered at most: past it, those not heard from for the longest are forgotten. */
const PEERS_MAX = 1024;

/**
 * When each peer last sent this node anything (Raft, gossip, forwarding), by the monotonic clock.
 * Gossip alone reaches every node from some peer at least once a second, so a node that has heard
 * nothing from anyone for longer than that is cut off from the cluster, not waiting on an election.
 */
export class PeerActivity {
  private readonly lastHeard = new Map<NodeId, number>();

  heard(peer: NodeId, monoMs: number): void {
    this.lastHeard.set(peer, monoMs);
    if (this.lastHeard.size > PEERS_MAX) this.forgetOldest();
  }

  /** How long ago `peer` last sent anything; undefined if it never did (or was forgotten). */
  heardAgoMs(peer: NodeId, monoMs: number): number | undefined {
    const at = this.lastHeard.get(peer);
    return at === undefined ? undefined : monoMs - at;
  }

  /** Some peer was heard from once, and none within `withinMs` (a node that heard none yet is starting). */
  hearsNoPeer(monoMs: number, withinMs: number): boolean {
    if (this.lastHeard.size === 0) return false;
    for (const at of this.lastHeard.values()) if (monoMs - at <= withinMs) return false;
    return true;
  }

  private forgetOldest(): void {
    const byAge = [...this.lastHeard].sort((a, b) => a[1] - b[1]);
    for (const [peer] of byAge.slice(0, byAge.length - PEERS_MAX / 2)) this.lastHeard.delete(peer);
  }
}
