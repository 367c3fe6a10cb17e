import { describe, expect, it } from 'vitest';
import { bootstrapState, Raft, raftConfig } from '../../../src/raft/index.ts';
import { AssertionError, Prng } from '../../../src/shared/index.ts';
import { bytes, Cluster, lonelyFollower, THREE, THREE_VOTERS } from './harness.ts';

function follower(): Raft {
  return new Raft(raftConfig('n2'), bootstrapState(THREE_VOTERS), new Prng(2));
}

describe('the Ready contract', () => {
  it.each([
    ['tick', (raft: Raft) => raft.tick()],
    ['step', (raft: Raft) => raft.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 0, readContext: '' })],
    ['propose', (raft: Raft) => raft.propose(bytes('x'))],
    ['readIndex', (raft: Raft) => raft.readIndex('r')],
  ])('refuses %s between ready() and advance()', (_, input) => {
    const raft = follower();
    raft.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 1, readContext: '' });
    expect(raft.hasReady()).toBe(true);
    raft.ready();
    expect(raft.hasReady()).toBe(false);
    expect(() => input(raft)).toThrow(AssertionError);
    raft.advance();
    expect(() => input(raft)).not.toThrow();
  });

  it('syncs a vote granted within a term it already knew: a crash must not let it vote twice (R1)', () => {
    const raft = new Raft(raftConfig('n2'), { ...bootstrapState(THREE_VOTERS), hardState: { term: 3, vote: '', commit: 1 } }, new Prng(2));
    raft.ready();
    raft.advance();
    raft.step({ type: 'vote', from: 'n3', to: 'n2', term: 3, lastIndex: 1, lastTerm: 1, transfer: false });
    const ready = raft.ready();
    expect(ready.hardState).toMatchObject({ term: 3, vote: 'n3' });
    expect(ready.mustSync).toBe(true);
    expect(ready.messages).toEqual([expect.objectContaining({ type: 'voteResponse', to: 'n3', reject: false })]);
  });

  it('refuses advance() without an outstanding ready', () => {
    expect(() => follower().advance()).toThrow(AssertionError);
  });

  it('asks for a sync when term, vote or entries change, and not for a commit alone', () => {
    const cluster = lonelyFollower();
    const raft = cluster.raft('n2');
    const readyAfter = (input: () => void) => {
      input();
      const ready = raft.ready();
      raft.advance();
      return ready;
    };
    const vote = readyAfter(() => raft.step({ type: 'vote', from: 'n1', to: 'n2', term: 2, lastIndex: 1, lastTerm: 1, transfer: false }));
    expect(vote).toMatchObject({ mustSync: true, hardState: { term: 2, vote: 'n1' } });
    const append = readyAfter(() =>
      raft.step({
        type: 'append',
        from: 'n1',
        to: 'n2',
        term: 2,
        prevIndex: 1,
        prevTerm: 1,
        commit: 1,
        entries: [{ index: 2, term: 2, kind: 'noop', data: new Uint8Array(0) }],
      }),
    );
    expect(append.mustSync).toBe(true);
    expect(append.entries.map((e) => e.index)).toEqual([2]);
    const commit = readyAfter(() => raft.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 2, readContext: '' }));
    expect(commit).toMatchObject({ mustSync: false, entries: [], hardState: { commit: 2 } });
    expect(commit.committedEntries.map((e) => e.index)).toEqual([2]);
  });

  it('hands each committed entry to the application exactly once, in order', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (const value of ['a', 'b']) cluster.propose('n1', value);
    cluster.deliver();
    cluster.propose('n1', 'c');
    cluster.deliver();
    cluster.tick('n1');
    cluster.deliver();
    for (const id of THREE) {
      expect(cluster.node(id).applied.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
      expect(cluster.appliedData(id)).toEqual(['a', 'b', 'c']);
    }
  });

  it('reports a role change once, in softState', () => {
    const raft = new Raft(raftConfig('n1'), bootstrapState({ voters: ['n1'], learners: [] }), new Prng(1));
    const roles: string[] = [];
    for (let i = 0; i < 20; i++) {
      raft.tick();
      while (raft.hasReady()) {
        const ready = raft.ready();
        if (ready.softState !== undefined) roles.push(`${ready.softState.role}:${ready.softState.leader}`);
        raft.advance();
      }
    }
    expect(roles).toEqual(['leader:n1']);
  });
});
