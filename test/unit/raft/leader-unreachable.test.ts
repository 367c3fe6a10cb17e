import { describe, expect, it } from 'vitest';
import { Cluster, ELECTION_TICKS, THREE } from './harness.ts';

// Goal: a follower told its link to the leader closed campaigns within a few ticks, not a whole
// election timeout, and the hint can never disturb a leader that is still alive.
describe('leader unreachable', () => {
  it('a follower whose leader crashed campaigns within a tick per voter ahead of it, and the survivors elect one leader without a split vote', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.crash('n1');
    for (const id of ['n2', 'n3']) cluster.on(id, (raft) => raft.leaderUnreachable('n1'));
    expect(cluster.status('n2').leader).toBe('');
    cluster.run(3);
    expect(cluster.leaders().filter((id) => id !== 'n1')).toHaveLength(1);
  });

  it('does nothing when the peer is not its leader', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.on('n2', (raft) => raft.leaderUnreachable('n3'));
    expect(cluster.status('n2').leader).toBe('n1');
    cluster.tick('n2', 3);
    expect(cluster.status('n2').role).toBe('follower');
  });

  it('a false alarm on one follower does not depose a live leader: the other still honours its lease', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.on('n2', (raft) => raft.leaderUnreachable('n1'));
    cluster.tick('n2', 3);
    cluster.deliver((message) => message.type === 'preVote' || message.type === 'preVoteResponse');
    expect(cluster.status('n2').term).toBe(2);
    cluster.run(ELECTION_TICKS);
    expect(cluster.leaders()).toEqual(['n1']);
    expect(cluster.status('n1').term).toBe(2);
    expect(cluster.status('n2')).toMatchObject({ role: 'follower', leader: 'n1' });
  });
});
