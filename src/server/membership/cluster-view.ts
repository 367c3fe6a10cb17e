import type { Member } from '../../gossip/index.ts';
import { isVoter, members, type NodeId, type RaftStatus } from '../../raft/index.ts';
import type { ClusterResult } from '../../shared/index.ts';
import type { PeerIdentity, PeerRelease } from '../../transport/index.ts';

/** `GET /cluster`: the wire type the protocol declares (`ClusterResult`), built here from the Raft and gossip views. */
export type ClusterView = ClusterResult;

export interface ClusterViewInput {
  /** `founders`: this node's (see `ClusterFounding`); absent = not known. */
  readonly self: { readonly id: NodeId; readonly address: string; readonly founders?: readonly NodeId[] | null };
  readonly status: RaftStatus;
  readonly appliedIndex: number;
  readonly peers: readonly PeerIdentity[];
  readonly gossip: readonly Member[];
  readonly isConnected: (peer: NodeId) => boolean;
  readonly clusterVersion: number;
  readonly release: PeerRelease;
}

/** `GET /cluster` (docs/http-api.md): the Raft view and the gossip view of every member, side by side. */
export function clusterView(input: ClusterViewInput): ClusterView {
  const { self, status } = input;
  const gossipOf = new Map(input.gossip.map((member) => [member.id, member]));
  const addressOf = (id: NodeId) =>
    id === self.id ? self.address : (gossipOf.get(id)?.address ?? input.peers.find((peer) => peer.id === id)?.address ?? null);
  const matchOf = new Map(status.progress.map((progress) => [progress.id, progress.match]));
  const voter = isVoter(status.membership, self.id);
  const releaseOf = (id: NodeId): { release?: PeerRelease } => {
    const release = id === self.id ? input.release : input.peers.find((peer) => peer.id === id)?.release;
    return release === undefined ? {} : { release };
  };
  const ids = [...new Set([...members(status.membership), ...input.gossip.map((member) => member.id)])].sort();
  return {
    self: {
      id: self.id,
      address: self.address,
      role: status.role === 'preCandidate' ? 'candidate' : status.role === 'follower' && !voter ? 'learner' : status.role,
      term: status.term,
      commitIndex: status.commit,
      appliedIndex: input.appliedIndex,
      recovering: status.recovering,
      founders: self.founders ?? null,
    },
    leader: status.leader === '' ? null : { id: status.leader, address: addressOf(status.leader) },
    members: ids.map((id) => {
      const connected = id === self.id || input.isConnected(id);
      const match = status.role === 'leader' ? (id === self.id ? status.lastIndex : matchOf.get(id)) : undefined;
      const raft = isVoter(status.membership, id) ? ('voter' as const) : members(status.membership).includes(id) ? ('learner' as const) : null;
      return {
        id,
        address: addressOf(id),
        state: gossipOf.get(id)?.state ?? (connected ? 'alive' : 'suspect'),
        inGossip: id === self.id || gossipOf.has(id),
        voter: raft === 'voter',
        raft,
        connected,
        ...(match === undefined ? {} : { matchIndex: match }),
        ...releaseOf(id),
      };
    }),
    clusterVersion: input.clusterVersion,
  };
}
