import type { NodeId } from '../raft/index.ts';
import type { PeerIdentity } from './peer-frames.ts';

/**
 * How the founders of a cluster founded from existing data (`--force-new-cluster`, a restore) mark
 * it: one of them starts with this, which no node id does (ours are hex, see `openNodeStorage`).
 */
export const REFOUNDING_MARK_PREFIX = 'refounded.';

/** Whether these founders are those of a cluster founded from existing data (see `REFOUNDING_MARK_PREFIX`). */
export function isRefounded(founders: readonly NodeId[] | null): boolean {
  return founders !== null && founders.some((id) => id.startsWith(REFOUNDING_MARK_PREFIX));
}

/**
 * Why two nodes may not link because they belong to different clusters, or undefined when they
 * may. A cluster is named by its founders (see `ClusterFounding`), which both sides of a link
 * announce in their handshake.
 *
 * - Two nodes that both announce founders and differ were founded apart: a cluster refounded by
 *   `--force-new-cluster` or restored from a backup has founders no old node can hold, so the old
 *   cluster's nodes that announce theirs are kept out and never count towards a majority with their
 *   stale configuration.
 * - A node that announces none either holds no cluster state yet (a blank node: it may link to
 *   anyone, and is let in by the configuration, not by this check), or has not learnt its
 *   cluster's founders (a release from before founders were kept, or a node that joined from a
 *   snapshot and has not stored them yet). Such a node may belong to a cluster that was refounded
 *   without it: a refounded node therefore refuses a peer that announces no founders and holds
 *   state, or does not say whether it does (a release from before `holdsState`). In a cluster that
 *   was never refounded nothing changes: nodes of an older release keep linking during an upgrade.
 */
export function foundersConflict(self: PeerIdentity, peer: PeerIdentity): string | undefined {
  if (peer.founders === null) {
    if (!isRefounded(self.founders) || peer.holdsState === false) return undefined;
    const said = peer.holdsState === undefined ? 'says nothing of its state (an older release)' : 'holds cluster state';
    return (
      `peer ${peer.id} at ${peer.address} announces no founders but ${said}: it may be a member of the cluster this one was refounded from ` +
      `(founders ${self.founders?.join(',')}): refused. A node that belongs to this cluster learns its founders from the leader; ` +
      'one that cannot must be wiped and rejoin blank'
    );
  }
  if (self.founders === null) return undefined;
  if (sameFounders(self.founders, peer.founders)) return undefined;
  return `peer ${peer.id} at ${peer.address} belongs to another cluster (founded by ${peer.founders.join(',')}; this one by ${self.founders.join(',')}): refused`;
}

function sameFounders(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((id, index) => id === sortedB[index]);
}
