import { describe, expect, it } from 'vitest';
import { Cluster, ELECTION_TICKS, is, THREE } from './harness.ts';

function transfer(cluster: Cluster, from: string, to: string) {
  return cluster.on(from, (raft) => raft.transferLeadership(to));
}

function led(): Cluster {
  const cluster = new Cluster({ voters: THREE, learners: ['n4'] });
  cluster.elect('n1');
  return cluster;
}

describe('leadership transfer (thesis §3.10)', () => {
  it('sends timeoutNow to a caught-up target, which wins inside the lease of the others', () => {
    const cluster = led();
    expect(transfer(cluster, 'n1', 'n2')).toBeUndefined();
    expect(cluster.queue.filter(is('timeoutNow', { to: 'n2' }))).toHaveLength(1);
    cluster.deliver();
    expect(cluster.status('n2')).toMatchObject({ role: 'leader', term: 3 });
    for (const id of ['n1', 'n3']) expect(cluster.status(id)).toMatchObject({ role: 'follower', leader: 'n2', term: 3 });
  });

  it('catches a lagging target up before sending timeoutNow', () => {
    const cluster = led();
    cluster.isolate('n3');
    for (const value of ['a', 'b', 'c']) cluster.propose('n1', value);
    cluster.deliver();
    cluster.heal();
    transfer(cluster, 'n1', 'n3');
    expect(cluster.queue.filter(is('timeoutNow'))).toEqual([]);
    cluster.deliver((m) => m.type !== 'timeoutNow');
    expect(cluster.queue.filter(is('timeoutNow', { to: 'n3' }))).toHaveLength(1);
    expect(cluster.status('n3').lastIndex).toBe(cluster.status('n1').lastIndex);
    cluster.deliver();
    expect(cluster.status('n3').role).toBe('leader');
    cluster.deliver();
    expect(cluster.appliedData('n3')).toEqual(['a', 'b', 'c']);
  });

  it('refuses proposals and membership changes while a transfer is under way (TRANSFER_IN_PROGRESS)', () => {
    const cluster = led();
    cluster.isolate('n2');
    transfer(cluster, 'n1', 'n2');
    const refused = { ok: false, error: { code: 'TRANSFER_IN_PROGRESS', retryable: true } };
    expect(cluster.propose('n1')).toMatchObject(refused);
    expect(cluster.on('n1', (raft) => raft.proposeMembershipChange({ type: 'remove', node: 'n4' }))).toMatchObject(refused);
  });

  it('abandons a transfer that has not finished within an election timeout', () => {
    const cluster = led();
    transfer(cluster, 'n1', 'n2');
    cluster.drop(is('timeoutNow'));
    const tickLeader = (): void => {
      cluster.tick('n1');
      cluster.deliver();
    };
    for (let i = 0; i < ELECTION_TICKS - 1; i++) tickLeader();
    expect(cluster.status('n1').leadTransferee).toBe('n2');
    tickLeader();
    expect(cluster.status('n1')).toMatchObject({ role: 'leader', leadTransferee: '' });
    expect(cluster.propose('n1').ok).toBe(true);
  });

  it.each([
    { target: 'a learner', to: 'n4', code: 'INVALID_MEMBERSHIP_CHANGE' },
    { target: 'a stranger', to: 'n9', code: 'INVALID_MEMBERSHIP_CHANGE' },
  ])('refuses a transfer to $target', ({ to, code }) => {
    const cluster = led();
    expect(transfer(cluster, 'n1', to)).toMatchObject({ code });
    expect(cluster.status('n1').leadTransferee).toBe('');
    expect(cluster.queue.filter(is('timeoutNow'))).toEqual([]);
  });

  it('only the leader transfers: a follower answers NOT_LEADER with a hint', () => {
    const cluster = led();
    expect(transfer(cluster, 'n2', 'n3')).toMatchObject({ code: 'NOT_LEADER', leaderHint: 'n1' });
  });

  it('a learner that receives timeoutNow does not campaign', () => {
    const cluster = led();
    cluster.inject({ type: 'timeoutNow', from: 'n1', to: 'n4', term: 2 });
    expect(cluster.status('n4')).toMatchObject({ role: 'follower', term: 2 });
    expect(cluster.queue).toEqual([]);
  });
});
