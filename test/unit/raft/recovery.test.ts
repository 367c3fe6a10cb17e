import { describe, expect, it } from 'vitest';
import type { AppendResponseMessage, LogPosition, Message, NodeId, PersistedState } from '../../../src/raft/index.ts';
import { accepted, Cluster, ELECTION_TICKS, is, THREE } from './harness.ts';

/** What storage starts a node with after finding that its disk lost entries up to `lost`. */
function damagedDisk(term: number, vote: NodeId, lost: LogPosition): PersistedState {
  return { hardState: { term, vote, commit: 0 }, entries: [], recovery: lost };
}

function lastPosition(cluster: Cluster, id: NodeId): LogPosition {
  const { lastIndex } = cluster.status(id);
  return { index: lastIndex, term: cluster.raft(id).termAt(lastIndex)! };
}

const grantedVote = (from: NodeId) => (m: Message) => m.from === from && (m.type === 'voteResponse' || m.type === 'preVoteResponse') && !m.reject;

/** Successful append answers `from` sent since message number `since`. */
const acknowledgementsFrom = (cluster: Cluster, from: NodeId, since = 0) =>
  cluster.sent.slice(since).filter((m): m is AppendResponseMessage => m.type === 'appendResponse' && m.from === from && !m.reject);

// Protocol-aware recovery (RELIABILITY R11; Alagappan et al., FAST'18): a node whose disk lost
// entries it had acknowledged must not act on the promises it can no longer keep.
describe('recovery from a damaged disk', () => {
  it('a node with a damaged log never votes before repair, so a stale node cannot win and lose committed entries', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.isolate('n2');
    for (let i = 0; i < 3; i++) accepted(cluster.propose('n1', `committed ${i}`));
    cluster.deliver();
    expect(cluster.status('n1').commit).toBe(5);
    // n3 helped commit entries 3..5, which n2 lacks; then n3's disk loses them and n1 dies.
    cluster.restartFrom('n3', damagedDisk(2, 'n1', lastPosition(cluster, 'n3')));
    cluster.crash('n1');
    cluster.heal();
    const sentBefore = cluster.sent.length;
    cluster.run(6 * ELECTION_TICKS);
    expect(cluster.sent.slice(sentBefore).filter(is('preVote', { from: 'n2' })).length).toBeGreaterThan(0);
    expect(cluster.sent.slice(sentBefore).filter(grantedVote('n3'))).toEqual([]);
    expect(cluster.leaders()).toEqual([]);
    expect(cluster.status('n3').recovering).toBe(true);

    // n1 returns and wins (n2's log is behind its own); n3 is repaired from it and votes again.
    cluster.restart('n1');
    cluster.run(6 * ELECTION_TICKS);
    expect(cluster.leaders()).toEqual(['n1']);
    expect(cluster.status('n3')).toMatchObject({ recovering: false, lastIndex: cluster.status('n1').lastIndex });
    expect(cluster.appliedData('n3')).toEqual(['committed 0', 'committed 1', 'committed 2']);
  });

  it('never campaigns while recovering, however long it hears from no leader', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.restartFrom('n3', damagedDisk(2, 'n1', lastPosition(cluster, 'n3')));
    cluster.isolate('n3');
    cluster.run(10 * ELECTION_TICKS);
    expect(cluster.sent.filter((m) => m.from === 'n3' && (m.type === 'preVote' || m.type === 'vote'))).toEqual([]);
    expect(cluster.status('n3')).toMatchObject({ role: 'follower', term: 2, recovering: true });
  });

  it('never acknowledges appends as a voter while recovering: the leader cannot commit with it alone', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    // A target beyond anything the leader's term will write keeps n3 recovering for the whole test.
    const sentBefore = cluster.sent.length;
    cluster.restartFrom('n3', damagedDisk(2, 'n1', { index: 100, term: 2 }));
    cluster.crash('n2');
    const commit = cluster.status('n1').commit;
    for (let i = 0; i < 3; i++) accepted(cluster.propose('n1', `uncommitted ${i}`));
    cluster.run(3);
    // Repaired from the leader (its stale match forgotten), but answering only as a non-voter.
    expect(cluster.status('n3').lastIndex).toBe(cluster.status('n1').lastIndex);
    const answers = acknowledgementsFrom(cluster, 'n3', sentBefore);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((m) => m.recovering === true)).toBe(true);
    expect(cluster.progressOf('n1', 'n3').recovering).toBe(true);
    expect(cluster.status('n1').commit).toBe(commit);

    cluster.restart('n2');
    cluster.run(3);
    expect(cluster.status('n1').commit).toBe(cluster.status('n1').lastIndex);
  });

  it('stops recovering once a leader of a later term reaches it, even with a log shorter than the lost one', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.restartFrom('n3', damagedDisk(2, 'n1', { index: 100, term: 2 }));
    cluster.run(2);
    expect(cluster.status('n3').recovering).toBe(true);
    // n2 takes over in term 3 with n1's vote: its no-op is of a later term than anything n3 lost.
    cluster.restart('n1');
    cluster.elect('n2');
    cluster.run(2);
    expect(cluster.status('n3')).toMatchObject({ recovering: false, term: 3, lastIndex: cluster.status('n2').lastIndex });
    expect(cluster.progressOf('n2', 'n3').recovering).toBe(false);
  });

  it('stays recovering across a restart until its rebuilt log reaches the lost one', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.restartFrom('n3', damagedDisk(2, 'n1', { index: 100, term: 2 }));
    cluster.run(2);
    cluster.restart('n3');
    expect(cluster.status('n3').recovering).toBe(true);
    cluster.isolate('n3');
    cluster.run(10 * ELECTION_TICKS);
    expect(cluster.sent.filter((m) => m.from === 'n3' && m.type === 'preVote')).toEqual([]);
  });

  it('demoted while recovering, it is repaired as a learner and votes again once promoted', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    cluster.restartFrom('n3', damagedDisk(2, 'n1', { index: 100, term: 2 }));
    cluster.run(2);
    expect(cluster.progressOf('n1', 'n3').recovering).toBe(true);
    accepted(cluster.on('n1', (raft) => raft.proposeMembershipChange({ type: 'demote', node: 'n3' })));
    cluster.run(2);
    expect(cluster.status('n1').membership).toEqual({ voters: ['n1', 'n2'], learners: ['n3'] });
    // Still recovering (its target lies ahead of this term's log), yet caught up as a learner.
    expect(cluster.status('n3')).toMatchObject({ recovering: true, lastIndex: cluster.status('n1').lastIndex });
    // A new term repairs it; the autopilot would then promote it.
    cluster.crash('n1');
    cluster.restart('n1');
    cluster.elect('n2');
    cluster.run(2);
    expect(cluster.status('n3').recovering).toBe(false);
    accepted(cluster.on('n2', (raft) => raft.proposeMembershipChange({ type: 'addVoter', node: 'n3' })));
    cluster.run(2);
    cluster.crash('n2');
    cluster.restart('n2');
    cluster.elect('n3');
    expect(cluster.leaders()).toEqual(['n3']);
  });

  it('a late acknowledgement from before the damage does not stall the repair', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (let i = 0; i < 3; i++) accepted(cluster.propose('n1', `e${i}`));
    cluster.deliver();
    cluster.restartFrom('n3', damagedDisk(2, 'n1', { index: 100, term: 2 }));
    cluster.isolate('n3');
    cluster.run(1);
    // An answer n3 sent while recovering once before, delivered only now: it claims entries n3 lost.
    cluster.heal();
    cluster.inject({ type: 'appendResponse', from: 'n3', to: 'n1', term: 2, index: 5, reject: false, rejectHint: 0, rejectTerm: 0, recovering: true });
    cluster.run(3);
    expect(cluster.status('n3').lastIndex).toBe(cluster.status('n1').lastIndex);
    expect(cluster.appliedData('n3')).toEqual(['e0', 'e1', 'e2']);
  });
});
