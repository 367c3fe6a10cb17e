import type { NodeId } from '../../raft/index.ts';
import type { PeerIdentity } from '../../transport/index.ts';

export type BootstrapDecision = { readonly kind: 'bootstrap'; readonly founders: readonly NodeId[] } | { readonly kind: 'wait'; readonly reason: string };

/**
 * Whether a node with no cluster state founds the cluster now. Every founder must write the same
 * first entry, so the decision depends only on what all of them can see alike: exactly `expect`
 * blank nodes that know each other, or founders already announced by a peer that include us.
 */
export function decideBootstrap(self: NodeId, expect: number, peers: readonly PeerIdentity[]): BootstrapDecision {
  const announced = peers.find((peer) => peer.founders !== null)?.founders;
  if (announced !== undefined && announced !== null) {
    if (announced.includes(self)) return { kind: 'bootstrap', founders: announced };
    return { kind: 'wait', reason: 'a cluster already exists; waiting to be added to it' };
  }
  if (expect < 1) return { kind: 'wait', reason: 'no --bootstrap-expect given; waiting to be added to a cluster' };
  const blank = new Set([self, ...peers.map((peer) => peer.id)]);
  if (blank.size < expect) return { kind: 'wait', reason: `waiting for ${expect} nodes, know ${blank.size}` };
  if (blank.size > expect) return { kind: 'wait', reason: `found ${blank.size} blank nodes but --bootstrap-expect is ${expect}` };
  return { kind: 'bootstrap', founders: [...blank].sort() };
}
