import { describe, expect, it } from 'vitest';
import type { MembershipChange } from '../../../src/raft/index.ts';
import { accepted, appendMessage, Cluster, configEntry, diskWith, ELECTION_TICKS, entry, is, lonelyFollower, THREE, THREE_VOTERS } from './harness.ts';

function change(cluster: Cluster, leader: string, proposed: MembershipChange) {
  return cluster.on(leader, (raft) => raft.proposeMembershipChange(proposed));
}

/** n1 leads n2 and n3, with n4 and n5 waiting outside the configuration. */
function withJoiners(): Cluster {
  const cluster = new Cluster({ voters: THREE, joiners: ['n4', 'n5'] });
  cluster.elect('n1');
  return cluster;
}

describe('membership changes (thesis §4.1, one server at a time)', () => {
  it('refuses a second change while the first is uncommitted (CHANGE_IN_PROGRESS)', () => {
    const cluster = withJoiners();
    expect(change(cluster, 'n1', { type: 'addLearner', node: 'n4' }).ok).toBe(true);
    expect(change(cluster, 'n1', { type: 'addLearner', node: 'n5' })).toMatchObject({
      ok: false,
      error: { code: 'CHANGE_IN_PROGRESS', retryable: true },
    });
    cluster.deliver();
    expect(change(cluster, 'n1', { type: 'addLearner', node: 'n5' }).ok).toBe(true);
  });

  it('refuses a change until the new leader has committed its no-op (LEADER_NOT_READY)', () => {
    const cluster = new Cluster({ voters: THREE, joiners: ['n4'] });
    cluster.campaign('n1');
    cluster.deliver((m) => m.type !== 'append');
    expect(cluster.status('n1').role).toBe('leader');
    expect(change(cluster, 'n1', { type: 'addLearner', node: 'n4' })).toMatchObject({
      ok: false,
      error: { code: 'LEADER_NOT_READY' },
    });
    cluster.deliver();
    expect(change(cluster, 'n1', { type: 'addLearner', node: 'n4' }).ok).toBe(true);
  });

  it.each<[string, MembershipChange]>([
    ['adding a voter that is already one', { type: 'addVoter', node: 'n2' }],
    ['adding a member as learner', { type: 'addLearner', node: 'n3' }],
    ['removing a stranger', { type: 'remove', node: 'n9' }],
    ['demoting a stranger', { type: 'demote', node: 'n9' }],
    ['a change without a node', { type: 'addLearner', node: '' }],
  ])('refuses %s (INVALID_MEMBERSHIP_CHANGE), appending nothing', (_, proposed) => {
    const cluster = withJoiners();
    const lastIndex = cluster.status('n1').lastIndex;
    expect(change(cluster, 'n1', proposed)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_MEMBERSHIP_CHANGE', retryable: false },
    });
    expect(cluster.status('n1').lastIndex).toBe(lastIndex);
  });

  it.each(['remove', 'demote'] as const)('refuses to %s the last voter', (type) => {
    const cluster = new Cluster({ voters: ['n1'], learners: ['n2'] });
    cluster.campaign('n1');
    cluster.deliver();
    expect(change(cluster, 'n1', { type, node: 'n1' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_MEMBERSHIP_CHANGE' },
    });
  });

  it('a new configuration governs the leader as soon as it is appended, and a removed voter no longer counts', () => {
    const cluster = withJoiners();
    cluster.isolate('n2');
    const removal = accepted(change(cluster, 'n1', { type: 'remove', node: 'n3' }));
    expect(cluster.status('n1').membership).toEqual({ voters: ['n1', 'n2'], learners: [] });
    expect(cluster.status('n1').progress.map((p) => p.id)).toEqual(['n2']);
    // Under the old configuration n1 and n3 would be a majority; under the new one n3 is nobody.
    cluster.inject({ type: 'appendResponse', from: 'n3', to: 'n1', term: 2, index: removal, reject: false, rejectHint: 0, rejectTerm: 0 });
    expect(cluster.status('n1').commit).toBe(removal - 1);
    cluster.heal();
    cluster.tick('n1');
    cluster.deliver();
    expect(cluster.status('n1').commit).toBe(removal);
  });

  it('a follower adopts a configuration on append and drops it when the entry is truncated', () => {
    const cluster = lonelyFollower(diskWith([], { term: 2 }));
    const grown = { voters: [...THREE, 'n4'], learners: [] };
    cluster.inject(appendMessage({ term: 2, prevIndex: 1, prevTerm: 1, entries: [configEntry(2, 2, grown)] }));
    expect(cluster.status('n2').membership).toEqual(grown);
    cluster.restart('n2');
    expect(cluster.status('n2').membership).toEqual(grown);
    // A leader of term 3 never had that entry: its entry 2 replaces it, and the old configuration is back.
    cluster.inject(appendMessage({ term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 3)] }));
    expect(cluster.status('n2').membership).toEqual(THREE_VOTERS);
  });

  it('a joiner added as a learner receives the whole log from the first entry', () => {
    const cluster = withJoiners();
    cluster.propose('n1', 'before');
    cluster.deliver();
    change(cluster, 'n1', { type: 'addLearner', node: 'n4' });
    cluster.deliver();
    cluster.tick('n1');
    cluster.deliver();
    expect(cluster.status('n4')).toMatchObject({
      lastIndex: cluster.status('n1').lastIndex,
      commit: cluster.status('n1').commit,
      membership: { voters: THREE, learners: ['n4'] },
    });
    expect(cluster.appliedData('n4')).toEqual(['before']);
  });

  describe('learners', () => {
    it('receive entries but are neither asked for votes nor counted when they answer', () => {
      const cluster = new Cluster({ voters: THREE, learners: ['n4'] });
      cluster.campaign('n1');
      cluster.deliver((m) => m.type === 'preVote' || m.type === 'preVoteResponse');
      expect(cluster.status('n1').role).toBe('candidate');
      // With n4 counted, n1 and n4 would be two of three.
      cluster.inject({ type: 'voteResponse', from: 'n4', to: 'n1', term: 2, reject: false });
      expect(cluster.status('n1').role).toBe('candidate');
      cluster.deliver();
      expect(cluster.sent.filter((m) => m.to === 'n4' && (m.type === 'vote' || m.type === 'preVote'))).toEqual([]);
      expect(cluster.status('n4').commit).toBe(2);
    });

    it('do not make a quorum for commit', () => {
      const cluster = new Cluster({ voters: THREE, learners: ['n4', 'n5'] });
      cluster.elect('n1');
      cluster.isolate('n2', 'n3');
      // n1, n4 and n5 would be three of five members, but they are one of three voters.
      const index = accepted(cluster.propose('n1'));
      cluster.deliver();
      expect(cluster.status('n4').lastIndex).toBe(index);
      expect(cluster.status('n1').commit).toBe(index - 1);
    });

    it('count once promoted to voter', () => {
      const cluster = new Cluster({ voters: THREE, learners: ['n4'] });
      cluster.elect('n1');
      change(cluster, 'n1', { type: 'addVoter', node: 'n4' });
      cluster.deliver();
      expect(cluster.status('n1').membership).toEqual({ voters: [...THREE, 'n4'], learners: [] });
      // Three of four voters are a majority only if n4 counts.
      cluster.isolate('n3');
      const index = accepted(cluster.propose('n1'));
      cluster.deliver();
      expect(cluster.status('n1').commit).toBe(index);
    });

    it('a demoted voter keeps replicating as a learner', () => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      change(cluster, 'n1', { type: 'demote', node: 'n3' });
      cluster.deliver();
      expect(cluster.status('n3').membership).toEqual({ voters: ['n1', 'n2'], learners: ['n3'] });
      cluster.propose('n1', 'after');
      cluster.deliver();
      cluster.tick('n1');
      cluster.deliver();
      expect(cluster.appliedData('n3')).toEqual(['after']);
    });
  });

  it('a leader that removes itself leads until the removal commits, then steps down for good', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    accepted(change(cluster, 'n1', { type: 'remove', node: 'n1' }));
    expect(cluster.status('n1').role).toBe('leader');
    accepted(cluster.propose('n1', 'meanwhile'));
    cluster.deliver((m) => m.type === 'append');
    expect(cluster.status('n1').role).toBe('leader');
    cluster.deliver();
    expect(cluster.status('n1')).toMatchObject({ role: 'follower', leader: '' });
    const since = cluster.sent.length;
    cluster.run(4 * ELECTION_TICKS);
    expect(cluster.sent.slice(since).filter((m) => m.from === 'n1')).toEqual([]);
    expect(cluster.leaders()).toHaveLength(1);
    expect(cluster.leaders()[0]).not.toBe('n1');
    expect(cluster.appliedData(cluster.leaders()[0]!)).toEqual(['meanwhile']);
  });
});
