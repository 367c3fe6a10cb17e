import { describe, expect, it } from 'vitest';
import { clusterView } from '../../../../src/server/membership/cluster-view.ts';
import { leaderStatus } from '../../../support/leader-status.ts';

const status = leaderStatus({ voters: ['a', 'b', 'c'], learners: ['d'] }, { lastIndex: 10 });

describe('cluster view', () => {
  it('tells a configured member that gossip has no word of from one gossip knows', () => {
    const view = clusterView({
      self: { id: 'a', address: 'host-a:7000' },
      status,
      appliedIndex: 10,
      peers: [{ id: 'c', address: 'host-c:7000', founders: ['a', 'b', 'c'], release: { protocolMax: 3, clusterVersionMax: 2, version: '0.3.0' } }],
      gossip: [
        { id: 'b', address: 'host-b:7000', incarnation: 0, state: 'alive', since: 0 },
        { id: 'd', address: 'host-d:7000', incarnation: 0, state: 'suspect', since: 0 },
      ],
      isConnected: (peer) => peer === 'b',
      clusterVersion: 1,
      release: { protocolMax: 3, clusterVersionMax: 2, version: 'self' },
    });
    const byId = new Map(view.members.map((member) => [member.id, member]));
    expect(byId.get('a')).toMatchObject({ inGossip: true, state: 'alive', raft: 'voter' });
    expect(byId.get('b')).toMatchObject({ inGossip: true, state: 'alive' });
    expect(byId.get('c')).toMatchObject({ inGossip: false, state: 'suspect', address: 'host-c:7000', raft: 'voter' });
    expect(byId.get('d')).toMatchObject({ inGossip: true, state: 'suspect', raft: 'learner' });
    // Each member's release as it said at hello, this node's own included; none for a member not heard from.
    expect(byId.get('a')?.release?.version).toBe('self');
    expect(byId.get('c')?.release).toEqual({ protocolMax: 3, clusterVersionMax: 2, version: '0.3.0' });
    expect(byId.get('b')?.release).toBeUndefined();
    expect(view.clusterVersion).toBe(1);
  });
});
