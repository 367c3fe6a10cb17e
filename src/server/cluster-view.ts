import { isVoter, members, type NodeId, type RaftStatus } from '../raft/index.ts';
import type { PeerIdentity } from '../transport/index.ts';

export interface ClusterView {
  readonly self: {
    readonly id: NodeId;
    readonly address: string;
    readonly role: 'leader' | 'follower' | 'candidate' | 'learner';
    readonly term: number;
    readonly commitIndex: number;
    readonly appliedIndex: number;
  };
  readonly leader: { readonly id: NodeId; readonly address: string | null } | null;
  readonly members: readonly {
    readonly id: NodeId;
    readonly address: string | null;
    readonly state: 'alive' | 'suspect' | 'dead' | 'left';
    readonly voter: boolean;
    readonly matchIndex?: number;
  }[];
}

export interface ClusterViewInput {
  readonly self: { readonly id: NodeId; readonly address: string };
  readonly status: RaftStatus;
  readonly appliedIndex: number;
  readonly peers: readonly PeerIdentity[];
  readonly isConnected: (peer: NodeId) => boolean;
}

/** `GET /cluster` (HTTP-API.md): this node's Raft view, with liveness from its peer links. */
export function clusterView(input: ClusterViewInput): ClusterView {
  const { self, status } = input;
  const addressOf = (id: NodeId) => (id === self.id ? self.address : (input.peers.find((peer) => peer.id === id)?.address ?? null));
  const matchOf = new Map(status.progress.map((progress) => [progress.id, progress.match]));
  const voter = isVoter(status.membership, self.id);
  return {
    self: {
      id: self.id,
      address: self.address,
      role: status.role === 'preCandidate' ? 'candidate' : status.role === 'follower' && !voter ? 'learner' : status.role,
      term: status.term,
      commitIndex: status.commit,
      appliedIndex: input.appliedIndex,
    },
    leader: status.leader === '' ? null : { id: status.leader, address: addressOf(status.leader) },
    members: members(status.membership).map((id) => {
      const alive = id === self.id || input.isConnected(id);
      const match = status.role === 'leader' ? (id === self.id ? status.lastIndex : matchOf.get(id)) : undefined;
      return {
        id,
        address: addressOf(id),
        state: alive ? ('alive' as const) : ('suspect' as const),
        voter: isVoter(status.membership, id),
        ...(match === undefined ? {} : { matchIndex: match }),
      };
    }),
  };
}
