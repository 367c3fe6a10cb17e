import { describe, expect, it } from 'vitest';
import type { Message, NodeId, VoteMessage } from '../../../src/raft/index.ts';
import { Cluster, diskWith, ELECTION_TICKS, FIVE, is, lonelyFollower, THREE } from './harness.ts';

function voteRequest(fields: Partial<VoteMessage> & { from: NodeId; to: NodeId; term: number }): Message {
  return { type: 'vote', lastIndex: 1, lastTerm: 1, transfer: false, ...fields };
}

function answersTo(cluster: Cluster, candidate: NodeId): Message[] {
  return cluster.queue.filter((m) => m.to === candidate && (m.type === 'voteResponse' || m.type === 'preVoteResponse'));
}

describe('elections', () => {
  it('elects a leader that the other voters follow, in term 2', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (const id of THREE) expect(cluster.status(id)).toMatchObject({ term: 2, leader: 'n1' });
    expect(cluster.status('n2').vote).toBe('n1');
  });

  it('pre-vote leaves every term unchanged until a majority would vote (thesis §9.6)', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.campaign('n1');
    expect(cluster.status('n1')).toMatchObject({ role: 'preCandidate', term: 1, vote: '' });
    cluster.deliver((m) => m.type === 'preVote');
    for (const id of ['n2', 'n3']) expect(cluster.status(id)).toMatchObject({ term: 1, vote: '' });
    expect(answersTo(cluster, 'n1')).toMatchObject([
      { type: 'preVoteResponse', from: 'n2', reject: false, term: 2 },
      { type: 'preVoteResponse', from: 'n3', reject: false, term: 2 },
    ]);
  });

  it('a partitioned node keeps campaigning without inflating its term, and rejoins without disruption', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.isolate('n3');
    cluster.run(20 * ELECTION_TICKS);
    expect(cluster.sent.some(is('preVote', { from: 'n3' }))).toBe(true);
    expect(cluster.status('n3').term).toBe(2);
    cluster.heal();
    cluster.run(3);
    expect(cluster.status('n1')).toMatchObject({ role: 'leader', term: 2 });
    expect(cluster.status('n3')).toMatchObject({ role: 'follower', leader: 'n1' });
  });

  it('a candidate whose log is shorter in the same last term gets no vote (§5.4.1)', () => {
    const cluster = lonelyFollower(diskWith([2, 2]));
    cluster.inject(voteRequest({ from: 'n1', to: 'n2', term: 3, lastIndex: 2, lastTerm: 2 }));
    expect(cluster.drop(is('voteResponse', { to: 'n1' }))).toMatchObject([{ reject: true }]);
    expect(cluster.status('n2')).toMatchObject({ term: 3, vote: '' });
  });

  it('a longer log of an older last term loses to a shorter log of a newer one (§5.4.1)', () => {
    const cluster = new Cluster({
      voters: THREE,
      states: { n1: diskWith([2, 2, 2]), n2: diskWith([3]), n3: diskWith([3]) },
    });
    cluster.campaign('n1');
    cluster.deliver();
    expect(cluster.status('n1')).toMatchObject({ role: 'follower', term: 3 });
    expect(cluster.sent.filter(is('preVoteResponse', { to: 'n1' })).map((m) => m.reject)).toEqual([true, true]);
    // The vote itself is judged the same way, not only the pre-vote.
    cluster.inject(voteRequest({ from: 'n1', to: 'n2', term: 4, lastIndex: 4, lastTerm: 2 }));
    expect(cluster.drop(is('voteResponse', { to: 'n1' }))).toMatchObject([{ reject: true }]);
  });

  it('grants at most one vote per term, also after a restart from persisted state (§5.2)', () => {
    const cluster = new Cluster({ voters: THREE });
    const askN2 = (candidate: NodeId): boolean => {
      cluster.inject(voteRequest({ from: candidate, to: 'n2', term: 2 }));
      const answers = cluster.drop(is('voteResponse', { to: candidate }));
      expect(answers).toHaveLength(1);
      return answers[0]?.reject === false;
    };
    expect(askN2('n1')).toBe(true);
    expect(askN2('n3')).toBe(false);
    cluster.restart('n2');
    expect(cluster.status('n2')).toMatchObject({ term: 2, vote: 'n1' });
    expect(askN2('n3')).toBe(false);
    // Repeating the same vote is harmless: the candidate may have lost our first answer.
    expect(askN2('n1')).toBe(true);
  });

  it.each(['preVote', 'vote'] as const)('counts a duplicated %s grant once', (phase) => {
    const cluster = new Cluster({ voters: FIVE });
    cluster.campaign('n1');
    if (phase === 'vote') {
      cluster.deliver((m) => m.type === 'preVote' || m.type === 'preVoteResponse');
      expect(cluster.status('n1').role).toBe('candidate');
    }
    const role = cluster.status('n1').role;
    cluster.deliver((m) => m.type === phase && m.to === 'n2');
    const [grant] = answersTo(cluster, 'n1');
    if (grant === undefined) throw new Error('n2 did not answer');
    cluster.drop((m) => m === grant);
    for (let i = 0; i < 3; i++) cluster.inject(grant);
    // Two of five voters (n1 and n2) are not a majority, however often n2 answers.
    expect(cluster.status('n1').role).toBe(role);
    cluster.deliver((m) => m.type === phase && m.to === 'n3');
    cluster.deliver((m) => m.to === 'n1' && m.from === 'n3');
    expect(cluster.status('n1').role).toBe(phase === 'vote' ? 'leader' : 'candidate');
  });

  describe('leader lease (thesis §4.2.3)', () => {
    const disruptive = { from: 'n3', to: 'n2', term: 5, lastIndex: 100, lastTerm: 100 } as const;

    it.each(['preVote', 'vote'] as const)('a follower hearing from its leader ignores a %s, whatever its log', (type) => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      cluster.inject(voteRequest({ ...disruptive, type }));
      expect(cluster.queue).toEqual([]);
      expect(cluster.status('n2')).toMatchObject({ term: 2, vote: 'n1', leader: 'n1' });
    });

    it('a vote that carries transfer=true is answered inside the lease', () => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      cluster.inject(voteRequest({ ...disruptive, transfer: true }));
      expect(cluster.drop(is('voteResponse', { to: 'n3' }))).toMatchObject([{ reject: false, term: 5 }]);
      expect(cluster.status('n2')).toMatchObject({ term: 5, vote: 'n3', leader: '' });
    });

    it('once the leader has been silent for an election timeout, the follower answers', () => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      cluster.tick('n2', ELECTION_TICKS);
      cluster.drop();
      cluster.inject(voteRequest({ ...disruptive }));
      expect(cluster.drop(is('voteResponse', { to: 'n3' }))).toMatchObject([{ reject: false }]);
    });
  });

  describe('CheckQuorum (thesis §6.2)', () => {
    it('makes a leader cut off from the majority step down within two election timeouts', () => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      cluster.isolate('n1');
      for (let i = 0; i < 2 * ELECTION_TICKS; i++) {
        cluster.tick('n1');
        cluster.deliver();
      }
      expect(cluster.status('n1')).toMatchObject({ role: 'follower', leader: '', term: 2 });
      expect(cluster.propose('n1').ok).toBe(false);
    });

    it('keeps a leader that hears from a majority, even with one follower gone', () => {
      const cluster = new Cluster({ voters: THREE });
      cluster.elect('n1');
      cluster.crash('n3');
      for (let i = 0; i < 5 * ELECTION_TICKS; i++) {
        cluster.tick('n1');
        cluster.deliver();
      }
      expect(cluster.status('n1').role).toBe('leader');
    });
  });

  it('a learner or a node outside the configuration never campaigns', () => {
    const cluster = new Cluster({ voters: ['n1'], learners: ['n2'], joiners: ['n3'] });
    for (let i = 0; i < 10 * ELECTION_TICKS; i++) {
      cluster.tick('n2');
      cluster.tick('n3');
    }
    expect(cluster.sent.filter((m) => m.from !== 'n1')).toEqual([]);
    expect(cluster.status('n2')).toMatchObject({ role: 'follower', term: 1 });
    expect(cluster.status('n3')).toMatchObject({ role: 'follower', term: 0 });
  });

  it('a single voter elects itself without any message', () => {
    const cluster = new Cluster({ voters: ['n1'] });
    cluster.campaign('n1');
    expect(cluster.status('n1')).toMatchObject({ role: 'leader', term: 2, vote: 'n1' });
    expect(cluster.sent).toEqual([]);
  });

  describe('restart', () => {
    const setups: Record<'follower' | 'preCandidate' | 'candidate' | 'leader', (cluster: Cluster) => NodeId> = {
      follower: (cluster) => {
        cluster.elect('n1');
        return 'n2';
      },
      preCandidate: (cluster) => {
        cluster.campaign('n1');
        return 'n1';
      },
      candidate: (cluster) => {
        cluster.campaign('n1');
        cluster.deliver((m) => m.type === 'preVote' || m.type === 'preVoteResponse');
        return 'n1';
      },
      leader: (cluster) => {
        cluster.elect('n1');
        return 'n1';
      },
    };

    it.each(Object.keys(setups) as (keyof typeof setups)[])('a %s comes back as a follower with its term, vote, log and commit intact', (role) => {
      const cluster = new Cluster({ voters: THREE });
      const id = setups[role](cluster);
      const before = cluster.status(id);
      expect(before.role).toBe(role);
      cluster.restart(id);
      expect(cluster.status(id)).toMatchObject({
        role: 'follower',
        leader: '',
        term: before.term,
        vote: before.vote,
        lastIndex: before.lastIndex,
        commit: before.commit,
      });
    });
  });
});
