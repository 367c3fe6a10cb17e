import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/index.ts';
import { accepted, appendMessage, between, bytes, Cluster, diskWith, entry, is, lonelyFollower, type Overrides, THREE, termsOf } from './harness.ts';

function answersToN1(cluster: Cluster): Message[] {
  return cluster.drop(is('appendResponse', { to: 'n1' }));
}

/** n1 leads; n2 then misses `count` proposals and comes back, to be caught up in bulk. */
function laggingFollower(config: Overrides, count: number, payload: string): Cluster {
  const cluster = new Cluster({ voters: THREE, config });
  cluster.elect('n1');
  cluster.crash('n2');
  for (let i = 0; i < count; i++) cluster.propose('n1', payload);
  cluster.deliver();
  cluster.restart('n2');
  cluster.tick('n1');
  cluster.deliver();
  return cluster;
}

describe('follower side of AppendEntries', () => {
  it('replaces a conflicting suffix of an older term with the leader entries, on disk too (§5.3)', () => {
    const cluster = lonelyFollower(diskWith([2, 2, 2], { term: 2 }));
    cluster.inject(appendMessage({ term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 3), entry(3, 3)] }));
    expect(termsOf(cluster, 'n2')).toEqual([1, 3, 3]);
    expect(answersToN1(cluster)).toMatchObject([{ reject: false, index: 3 }]);
    cluster.restart('n2');
    expect(termsOf(cluster, 'n2')).toEqual([1, 3, 3]);
  });

  it('rejects an append whose previous entry does not match, and keeps its log (§5.3)', () => {
    const cluster = lonelyFollower(diskWith([2, 2], { term: 2 }));
    cluster.inject(appendMessage({ term: 3, prevIndex: 3, prevTerm: 3, entries: [entry(4, 3)] }));
    expect(termsOf(cluster, 'n2')).toEqual([1, 2, 2]);
    expect(answersToN1(cluster)).toMatchObject([{ reject: true, index: 3 }]);
  });

  it('never truncates on a stale or duplicated append whose entries it already holds', () => {
    const cluster = lonelyFollower(diskWith([2, 2, 2], { term: 2 }));
    // The same leader sent [2..4] after [2]; the older, shorter append arrives last, twice.
    const older = appendMessage({ term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)] });
    cluster.inject(older);
    cluster.inject(older);
    expect(termsOf(cluster, 'n2')).toEqual([1, 2, 2, 2]);
    expect(answersToN1(cluster).map((m) => m.type === 'appendResponse' && !m.reject && m.index)).toEqual([2, 2]);
  });

  it('answers an append below its commit index with the commit index and drops nothing', () => {
    const cluster = lonelyFollower(diskWith([2, 2, 2], { term: 2, commit: 3 }));
    cluster.inject(appendMessage({ term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)] }));
    expect(answersToN1(cluster)).toMatchObject([{ reject: false, index: 3 }]);
    expect(cluster.status('n2').lastIndex).toBe(4);
  });

  it('never commits past the last entry the leader sent, whatever leaderCommit says', () => {
    // n2's entry 3 (term 2) is not the leader's entry 3, which this append does not carry.
    const cluster = lonelyFollower(diskWith([2, 2], { term: 2 }));
    cluster.inject(appendMessage({ term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)], commit: 3 }));
    expect(cluster.status('n2').commit).toBe(2);
    expect(cluster.appliedData('n2')).toEqual(['e2t2']);
  });

  it('a heartbeat never commits beyond what the follower holds', () => {
    const cluster = lonelyFollower(diskWith([2], { term: 2 }));
    cluster.inject({ type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 9, readContext: '' });
    expect(cluster.status('n2').commit).toBe(2);
  });
});

describe('leader side of AppendEntries', () => {
  it('replicates proposals to every follower and applies them everywhere in order', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (const value of ['a', 'b', 'c']) expect(cluster.propose('n1', value)).toMatchObject({ ok: true, term: 2 });
    cluster.deliver();
    cluster.tick('n1');
    cluster.deliver();
    for (const id of THREE) {
      expect(cluster.appliedData(id)).toEqual(['a', 'b', 'c']);
      expect(cluster.status(id).commit).toBe(5);
    }
  });

  it('sends nothing of its own for a new commit index: the next append or heartbeat carries it', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.tick('n1');
    cluster.deliver();
    cluster.propose('n1', 'a');
    cluster.deliver();
    expect([cluster.status('n1').commit, cluster.status('n2').commit, cluster.status('n3').commit]).toEqual([3, 2, 2]);
    expect(cluster.appliedData('n1')).toEqual(['a']);
    cluster.propose('n1', 'b');
    cluster.deliver();
    expect([cluster.status('n1').commit, cluster.status('n2').commit]).toEqual([4, 3]);
    cluster.tick('n1');
    cluster.deliver();
    for (const id of THREE) expect(cluster.appliedData(id)).toEqual(['a', 'b']);
  });

  it('tells a lagging follower only the commit index it is known to match, in heartbeats', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.isolate('n3');
    for (let i = 0; i < 3; i++) cluster.propose('n1');
    cluster.deliver();
    cluster.heal();
    cluster.tick('n1');
    const heartbeats = cluster.drop(is('heartbeat'));
    expect(heartbeats.map((m) => [m.to, m.type === 'heartbeat' && m.commit])).toEqual([
      ['n2', 5],
      ['n3', 2],
    ]);
  });

  // Each case has the leader n1 in term 3 holding [1, 3, 3, 3, 3, 3] and n2 holding something else.
  it.each([
    { follower: 'a divergent suffix of an older term', n2: [2, 2, 2, 2, 2] },
    { follower: 'a short log', n2: [] },
    { follower: 'a longer divergent suffix', n2: [2, 2, 2, 2, 2, 2, 2, 2] },
  ])('backtracks over $follower in one rejection (rejectHint/rejectTerm)', ({ n2 }) => {
    const leaderDisk = diskWith([3, 3, 3, 3, 3]);
    const cluster = new Cluster({
      voters: THREE,
      states: { n1: leaderDisk, n2: diskWith(n2, { term: 2 }), n3: leaderDisk },
    });
    cluster.elect('n1');
    const rejections = cluster.sent.filter((m) => m.type === 'appendResponse' && m.from === 'n2' && m.reject);
    expect(rejections).toHaveLength(1);
    expect(termsOf(cluster, 'n2')).toEqual([1, 3, 3, 3, 3, 3, 4]);
    expect(cluster.status('n2').commit).toBe(7);
  });

  it('ignores stale responses: neither match nor next moves backwards in replicate', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (let i = 0; i < 3; i++) cluster.propose('n1');
    cluster.deliver();
    const before = cluster.progressOf('n1', 'n2');
    expect(before).toMatchObject({ state: 'replicate', match: 5, next: 6 });
    const response = { type: 'appendResponse', from: 'n2', to: 'n1', term: 2, rejectHint: 1, rejectTerm: 1 } as const;
    cluster.inject({ ...response, index: 3, reject: true });
    cluster.inject({ ...response, index: 2, reject: false });
    expect(cluster.progressOf('n1', 'n2')).toEqual(before);
    expect(cluster.queue).toEqual([]);
  });

  it('ignores a rejection in probe that does not answer the outstanding probe', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.isolate('n3');
    cluster.elect('n1');
    expect(cluster.progressOf('n1', 'n3')).toMatchObject({ state: 'probe', next: 2 });
    cluster.drop();
    // The outstanding probe has prevIndex 1; an answer about prevIndex 0 belongs to no probe of ours.
    cluster.inject({ type: 'appendResponse', from: 'n3', to: 'n1', term: 2, index: 0, reject: true, rejectHint: 0, rejectTerm: 0 });
    expect(cluster.progressOf('n1', 'n3')).toMatchObject({ state: 'probe', next: 2 });
    expect(cluster.queue).toEqual([]);
  });

  it('keeps at most inflightAppendsMax unacknowledged appends to a follower in replicate', () => {
    const cluster = new Cluster({ voters: THREE, config: { inflightAppendsMax: 2, appendEntriesMax: 1 } });
    cluster.elect('n1');
    const inFlight = (): number => cluster.queue.filter(is('append', { to: 'n2' })).length;
    for (let i = 0; i < 6; i++) cluster.propose('n1');
    expect(inFlight()).toBe(2);
    let peak = 0;
    while (cluster.deliver(between('n1', 'n2'), 1) > 0) peak = Math.max(peak, inFlight());
    expect(peak).toBe(2);
    expect(cluster.status('n2').lastIndex).toBe(8);
  });

  it.each([
    { limit: 'appendEntriesMax', config: { appendEntriesMax: 3 }, payload: 'x', perAppend: 3 },
    // Each entry weighs 40 + 24 bytes: two fit in 150, three do not.
    { limit: 'appendBytesMax', config: { appendBytesMax: 150 }, payload: 'x'.repeat(40), perAppend: 2 },
    // An entry larger than the limit still travels, alone, or it could never be replicated.
    { limit: 'appendBytesMax with an oversized entry', config: { appendBytesMax: 150 }, payload: 'x'.repeat(200), perAppend: 1 },
  ])('catches a follower up in appends that respect $limit', ({ config, payload, perAppend }) => {
    const cluster = laggingFollower(config, 10, payload);
    const sizes = cluster.sent.filter(is('append', { to: 'n2' })).map((m) => m.entries.length);
    expect(Math.max(...sizes)).toBe(perAppend);
    expect(cluster.status('n2').lastIndex).toBe(12);
  });

  it('does not commit an entry of an earlier term by counting replicas (§5.4.2, Figure 8)', () => {
    const cluster = new Cluster({
      voters: THREE,
      config: { appendEntriesMax: 1 },
      states: { n1: diskWith([2]), n2: diskWith([], { term: 2 }), n3: diskWith([], { term: 2 }) },
    });
    cluster.campaign('n1');
    cluster.deliver((m) => m.type !== 'append' && m.type !== 'appendResponse');
    expect(cluster.status('n1')).toMatchObject({ role: 'leader', term: 3, lastIndex: 3 });
    cluster.isolate('n3');
    // The probe at 2 is refused, entry 2 (term 2) is sent and acknowledged: it is now on n1 and n2.
    cluster.deliver(between('n1', 'n2'), 4);
    expect(cluster.progressOf('n1', 'n2').match).toBe(2);
    expect(cluster.status('n1').commit).toBe(1);
    // Once the no-op of term 3 is on the majority, it commits and carries entry 2 with it.
    cluster.deliver(between('n1', 'n2'));
    expect(cluster.status('n1').commit).toBe(3);
    expect(cluster.appliedData('n1')).toEqual(['e2t2']);
  });

  it('does not count its own entries toward commit before advance() says they are persisted', () => {
    // A lone voter commits on its own disk alone, so only the persistence gate holds its commit back.
    const cluster = new Cluster({ voters: ['n1'], learners: ['n2'] });
    cluster.campaign('n1');
    cluster.propose('n1', 'a');
    cluster.deliver(is('append'));
    const [learnerAck] = cluster.drop(is('appendResponse'));
    if (learnerAck === undefined) throw new Error('the learner did not answer');
    // One batch of inputs before the next ready: a new proposal, then an answer that re-runs the commit rule.
    const raft = cluster.raft('n1');
    const index = accepted(raft.propose(bytes('b')));
    raft.step(learnerAck);
    expect(raft.status().commit).toBe(index - 1);
    const ready = raft.ready();
    expect(ready.entries.map((e) => e.index)).toEqual([index]);
    expect(ready.committedEntries).toEqual([]);
    raft.advance();
    expect(raft.status().commit).toBe(index);
    expect(raft.ready().committedEntries.map((e) => e.index)).toEqual([index]);
  });
});

describe('proposals', () => {
  it('a follower refuses a proposal with NOT_LEADER and names the leader', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    expect(cluster.propose('n2')).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', retryable: true, leaderHint: 'n1' } });
  });

  it('refuses a proposal larger than proposalBytesMax', () => {
    const cluster = new Cluster({ voters: THREE, config: { proposalBytesMax: 8 } });
    cluster.elect('n1');
    expect(cluster.propose('n1', 'x'.repeat(8)).ok).toBe(true);
    expect(cluster.propose('n1', 'x'.repeat(9))).toMatchObject({ ok: false, error: { code: 'PROPOSAL_TOO_LARGE' } });
  });

  it('refuses proposals with OVERLOADED while too many bytes are uncommitted, and accepts them again after commit', () => {
    const cluster = new Cluster({ voters: THREE, config: { uncommittedBytesMax: 200, proposalBytesMax: 100 } });
    cluster.elect('n1');
    cluster.isolate('n2', 'n3');
    const payload = 'x'.repeat(50);
    expect([1, 2, 3].map(() => cluster.propose('n1', payload).ok)).toEqual([true, true, false]);
    expect(cluster.propose('n1', payload)).toMatchObject({ ok: false, error: { code: 'OVERLOADED', retryable: true } });
    cluster.heal();
    cluster.tick('n1');
    cluster.deliver();
    expect(cluster.propose('n1', payload).ok).toBe(true);
  });
});
