import type { PeerIdentity } from './peer-frames.ts';

/**
 * Why two nodes may not link because they belong to different clusters, or undefined when they
 * may. A cluster is named by its founders (see `ClusterFounding`), which both sides of a link
 * announce in their handshake. A node that announces none holds no cluster state yet, or has not
 * learnt its cluster's founders: it may link to anyone, and is let in by the configuration, not by
 * this check. Two nodes that both announce founders and differ were founded apart: a cluster
 * refounded by `--force-new-cluster` or restored from a backup has founders no old node can hold,
 * so the old cluster's nodes, should one come back with its data, are kept out and can never count
 * towards a majority with their stale configuration.
 */
export function foundersConflict(self: PeerIdentity, peer: PeerIdentity): string | undefined {
  if (self.founders === null || peer.founders === null) return undefined;
  if (sameFounders(self.founders, peer.founders)) return undefined;
  return `peer ${peer.id} at ${peer.address} belongs to another cluster (founded by ${peer.founders.join(',')}; this one by ${self.founders.join(',')}): refused`;
}

function sameFounders(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((id, index) => id === sortedB[index]);
}
