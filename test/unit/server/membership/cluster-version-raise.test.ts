import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Membership, RaftStatus } from '../../../../src/raft/index.ts';
import { ClusterVersionRaise } from '../../../../src/server/membership/cluster-version-raise.ts';
import { LeaderDuties } from '../../../../src/server/membership/leader-duties.ts';
import type { MembershipService } from '../../../../src/server/membership/membership-service.ts';
import type { PeerIdentity } from '../../../../src/transport/index.ts';
import { leaderStatus } from '../../../support/leader-status.ts';

const log = pino({ level: 'silent' });

function statusOf(membership: Membership): RaftStatus {
  return leaderStatus(membership, { lastIndex: 10 });
}

/** Peers by id: a number is the highest cluster version its release said; null a release from before the gate. */
function setUp(peers: Record<string, number | null>, options: { running?: number; connected?: (id: string) => boolean } = {}) {
  let running = options.running ?? 1;
  const raises: number[] = [];
  let answer: (version: number) => void = () => undefined;
  const identities: PeerIdentity[] = Object.entries(peers).map(([id, version]) => ({
    id,
    address: `${id}:1`,
    founders: null,
    ...(version === null ? {} : { release: { protocolMax: 3, clusterVersionMax: version, version: 'test' } }),
  }));
  const raise = new ClusterVersionRaise({
    id: 'a',
    running: () => running,
    peers: () => identities,
    isConnected: options.connected ?? (() => true),
    raise: (version) => {
      raises.push(version);
      return new Promise((resolve) => {
        answer = (applied) => {
          running = applied;
          resolve(applied);
        };
      });
    },
    log,
  });
  return { raise, raises, commit: (version: number) => answer(version) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the cluster version raise', () => {
  it('raises to the highest version every member supports, once, and not while a member has not said or has no link', async () => {
    const three = statusOf({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const old = setUp({ b: 2, c: 2, d: null });
    old.raise.run(three);
    expect(old.raises).toEqual([]);
    expect(old.raise.membersBelow(2, three.membership)).toEqual(['d (supports 1)']);

    const unlinked = setUp({ b: 2, c: 2, d: 2 }, { connected: (id) => id !== 'c' });
    unlinked.raise.run(three);
    expect(unlinked.raises).toEqual([]);
    expect(unlinked.raise.membersBelow(2, three.membership)).toEqual(['c (not connected)']);

    const ready = setUp({ b: 2, c: 5, d: 2 });
    ready.raise.run(three);
    ready.raise.run(three);
    expect(ready.raises).toEqual([2]);
    ready.commit(2);
    await flush();
    ready.raise.run(three);
    expect(ready.raises).toEqual([2]);
  });

  it('holds a joiner to the version the cluster runs, a raise under way, or the one every member supports; and to a known release', () => {
    const members = statusOf({ voters: ['a', 'b', 'c'], learners: [] });
    // Every member is old but one: version 1 it stays, and an old joiner may come in.
    expect(setUp({ b: null, c: 2, old: null }).raise.joinRefusal('old', members)).toBeUndefined();
    // Every member supports 2 though the raise is not done: an old joiner would hold it back.
    expect(setUp({ b: 2, c: 2, old: null }).raise.joinRefusal('old', members)).toMatch(
      /supports cluster version 1, and the cluster runs 1 \(every member supports 2\)/,
    );
    expect(setUp({ b: 2, c: 2, old: null }, { running: 2 }).raise.joinRefusal('old', members)).toMatch(/supports cluster version 1, and the cluster runs 2/);
    expect(setUp({ b: 2, c: 2, fresh: 2 }, { running: 2 }).raise.joinRefusal('fresh', members)).toBeUndefined();
    // Gossip may know a joiner alive before this node has a link to it, and so its release.
    expect(setUp({ b: 2, c: 2 }, { running: 2 }).raise.joinRefusal('unheard', members)).toMatch(/has not heard its release yet/);
  });

  it('holds joiners to a raise it has proposed and not yet seen applied', () => {
    const members = statusOf({ voters: ['a', 'b'], learners: [] });
    const { raise } = setUp({ b: 2, old: null });
    raise.run(members);
    // A learner in flight (it is in the membership as soon as appended) is counted by the next round's target.
    expect(raise.joinRefusal('old', members)).toMatch(/upgrade it first/);
  });
});

describe('the leader duties with joiners refused', () => {
  it('pass over a refused joiner to the next change, so that one old node does not hold back promotions', () => {
    const proposed: string[] = [];
    const calls: string[][] = [];
    const membership = {
      nextChange: (_now: number, _status: RaftStatus, notJoining: ReadonlySet<string> = new Set()) => {
        calls.push([...notJoining]);
        if (!notJoining.has('old')) return { type: 'addLearner' as const, node: 'old' };
        return { type: 'addVoter' as const, node: 'd' };
      },
    } as unknown as MembershipService;
    const duties = new LeaderDuties({
      id: 'a',
      submit: (input) =>
        input({
          proposeMembershipChange: (change: { type: string; node: string }) => {
            proposed.push(`${change.type} ${change.node}`);
            return { ok: true, index: 11 };
          },
        } as never),
      membership,
      log,
      stabilizationMs: 1000,
      catchUpLagEntriesMax: 100,
      joinRefusal: (node) => (node === 'old' ? 'too old' : undefined),
    });
    duties.run(0, statusOf({ voters: ['a', 'b', 'c'], learners: ['d'] }));
    expect(calls).toEqual([[], ['old']]);
    expect(proposed).toEqual(['addVoter d']);
  });
});
