import { describe, expect, it } from 'vitest';
import { applyMembershipChange, type Membership } from '../../../src/raft/index.ts';
import { NODE_LIMITS } from '../../../src/shared/index.ts';
import { accepted, Cluster, THREE } from './harness.ts';

// Goal: answers no correct follower can send reach a leader only as noise: the leader neither
// asserts nor points a follower past its own log. Found by the fuzz suite: one appendResponse from an
// authenticated peer (a recovering rejection with a hint past the log) stopped the leader.
describe('a leader hearing impossible answers', () => {
  function leaderWithLog() {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    for (let i = 0; i < 3; i++) accepted(cluster.propose('n1', `entry ${i}`));
    cluster.deliver();
    return cluster;
  }

  it("drops an acknowledgement past its log, and stays leader with the follower's progress unchanged", () => {
    const cluster = leaderWithLog();
    const { term, lastIndex } = cluster.status('n1');
    const before = cluster.progressOf('n1', 'n2');
    cluster.inject({ type: 'appendResponse', from: 'n2', to: 'n1', term, index: lastIndex + 1000, reject: false, rejectHint: 0, rejectTerm: 0 });
    expect(cluster.status('n1').role).toBe('leader');
    expect(cluster.progressOf('n1', 'n2')).toMatchObject({ match: before.match, next: before.next });
    expect(cluster.status('n1').commit).toBe(lastIndex);
  });

  it("reads a recovering rejection's hint past its log as the log's end, and keeps replicating", () => {
    const cluster = leaderWithLog();
    const { term, lastIndex } = cluster.status('n1');
    cluster.inject({
      type: 'appendResponse',
      from: 'n2',
      to: 'n1',
      term,
      index: 0,
      reject: true,
      rejectHint: lastIndex + 1000,
      rejectTerm: 0,
      recovering: true,
    });
    cluster.inject({ type: 'appendResponse', from: 'n3', to: 'n1', term, index: lastIndex, reject: true, rejectHint: lastIndex + 1000, rejectTerm: 0 });
    expect(cluster.status('n1').role).toBe('leader');
    expect(cluster.progressOf('n1', 'n2').next).toBeLessThanOrEqual(lastIndex + 1);
    expect(cluster.progressOf('n1', 'n3').next).toBeLessThanOrEqual(lastIndex + 1);
    accepted(cluster.propose('n1', 'after'));
    cluster.deliver();
    expect(cluster.status('n1').commit).toBe(lastIndex + 1);
  });
});

// Goal: a configuration peers would refuse never reaches the log.
describe('membership changes within the node limits', () => {
  it('refuses a node id longer than every layer accepts, and a member beyond the limit', () => {
    const three: Membership = { voters: ['a', 'b', 'c'], learners: [] };
    expect(applyMembershipChange(three, { type: 'addLearner', node: 'x'.repeat(NODE_LIMITS.idLengthMax + 1) })).toMatchObject({
      invalid: expect.stringMatching(/characters/),
    });
    expect(applyMembershipChange(three, { type: 'addLearner', node: 'x'.repeat(NODE_LIMITS.idLengthMax) })).toMatchObject({
      learners: ['x'.repeat(NODE_LIMITS.idLengthMax)],
    });
    const full: Membership = { voters: ['a', 'b', 'c'], learners: Array.from({ length: NODE_LIMITS.membersMax - 3 }, (_, i) => `l${i}`) };
    expect(applyMembershipChange(full, { type: 'addLearner', node: 'one-more' })).toMatchObject({ invalid: expect.stringMatching(/at most/) });
    expect(applyMembershipChange(full, { type: 'addVoter', node: 'l0' })).not.toHaveProperty('invalid');
  });
});
