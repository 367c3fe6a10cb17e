import { describe, expect, it } from 'vitest';
import type { Membership, RaftStatus } from '../../../../src/raft/index.ts';
import { Autopilot, DEFAULT_AUTOPILOT, type MemberHealth } from '../../../../src/server/membership/autopilot.ts';
import { NODE_LIMITS } from '../../../../src/shared/index.ts';
import { leaderStatus } from '../../../support/leader-status.ts';

function status(membership: Membership, matches: Record<string, number> = {}, lastIndex = 100, recovering: readonly string[] = []): RaftStatus {
  return leaderStatus(membership, { matches, lastIndex, recovering });
}

const alive = (...ids: string[]): MemberHealth[] => ids.map((id) => ({ id, state: 'alive', since: 0, heardAgoMs: 0 }));

describe('autopilot', () => {
  const config = { ...DEFAULT_AUTOPILOT, stabilizationMs: 1000, deadRemoveAfterMs: 5000 };

  it('adds a live node that is not a member as a learner', () => {
    const pilot = new Autopilot(config);
    const change = pilot.nextChange(0, 'a', status({ voters: ['a', 'b', 'c'], learners: [] }), alive('a', 'b', 'c', 'd'));
    expect(change).toEqual({ type: 'addLearner', node: 'd' });
  });

  it('adds no learner once the configuration holds as many members as peers accept', () => {
    const pilot = new Autopilot(config);
    const learners = Array.from({ length: NODE_LIMITS.membersMax - 3 }, (_, i) => `l${i}`);
    const full = status({ voters: ['a', 'b', 'c'], learners });
    // Every learner still catching up, so that no promotion comes first.
    const behind = Object.fromEntries(learners.map((id) => [id, 0]));
    expect(pilot.nextChange(0, 'a', status(full.membership, behind), alive('a', 'b', 'c', ...learners, 'extra'))).toBeUndefined();
  });

  it('promotes learners only after they stayed caught up for the stabilization time, two at a time from an odd count', () => {
    const pilot = new Autopilot(config);
    const view = status({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
    const members = alive('a', 'b', 'c', 'd', 'e');
    expect(pilot.nextChange(0, 'a', view, members)).toBeUndefined();
    expect(pilot.nextChange(999, 'a', view, members)).toBeUndefined();
    expect(pilot.nextChange(1000, 'a', view, members)).toEqual({ type: 'addVoter', node: 'd' });
    const four = status({ voters: ['a', 'b', 'c', 'd'], learners: ['e'] });
    expect(pilot.nextChange(1100, 'a', four, members)).toEqual({ type: 'addVoter', node: 'e' });
  });

  it('a new leader counts a learner it has not seen behind as ready since gossip has known it alive', () => {
    const members: MemberHealth[] = [...alive('a', 'b'), { id: 'c', state: 'dead', since: 0 }, { id: 'd', state: 'alive', since: 4000, heardAgoMs: 0 }];
    const view = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const first = new Autopilot(config);
    expect(first.nextChange(4500, 'a', view, members)).toBeUndefined();
    // The leader changes before the learner's stabilization ends: the next one need not start over.
    const next = new Autopilot(config);
    const unheard = {
      ...view,
      term: 3,
      progress: view.progress.map((progress) => (progress.id === 'd' ? { ...progress, match: 0, state: 'probe' as const } : progress)),
    };
    expect(next.nextChange(4990, 'a', unheard, members)).toBeUndefined();
    expect(next.nextChange(5000, 'a', { ...view, term: 3 }, members)).toEqual({ type: 'addVoter', node: 'd' });
  });

  it('in a new term, starts the clock over for a learner it sees behind', () => {
    const pilot = new Autopilot(config);
    const members: MemberHealth[] = [
      ...alive('a', 'b', 'c'),
      { id: 'd', state: 'alive', since: 0, heardAgoMs: 0 },
      { id: 'e', state: 'alive', since: 0, heardAgoMs: 0 },
    ];
    const caughtUp = status({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
    expect(pilot.nextChange(500, 'a', caughtUp, members)).toBeUndefined();
    const behind = status({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] }, { d: 10 }, 1000);
    expect(pilot.nextChange(600, 'a', { ...behind, term: 3 }, members)).toBeUndefined();
    expect(pilot.nextChange(1500, 'a', { ...caughtUp, term: 3 }, members)).toBeUndefined();
    expect(pilot.nextChange(2499, 'a', { ...caughtUp, term: 3 }, members)).toBeUndefined();
    expect(pilot.nextChange(2500, 'a', { ...caughtUp, term: 3 }, members)).toEqual({ type: 'addVoter', node: 'd' });
  });

  it('promotes no learner it has not heard from lately, nor one whose promotion would leave too few voters heard from for a quorum', () => {
    const config500 = { ...config, heardWithinMs: 500 };
    const view = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const members = (d: number, b: number): MemberHealth[] => [
      { id: 'a', state: 'alive', since: 0 },
      { id: 'b', state: 'alive', since: 0, heardAgoMs: b },
      { id: 'c', state: 'dead', since: 0 },
      { id: 'd', state: 'alive', since: 0, heardAgoMs: d },
    ];
    const pilot = new Autopilot(config500);
    // d is ready, and steps in for the dead c only when heard from within 500 ms.
    expect(pilot.nextChange(2000, 'a', view, members(501, 0))).toBeUndefined();
    expect(pilot.nextChange(2100, 'a', view, members(0, 0))).toEqual({ type: 'addVoter', node: 'd' });
    // With b silent too, four voters of which two heard from could commit nothing.
    expect(pilot.nextChange(2200, 'a', view, members(0, 800))).toBeUndefined();
  });

  it('keeps an odd voter count: one ready learner beside three healthy voters stays a learner', () => {
    const pilot = new Autopilot(config);
    const view = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    pilot.nextChange(0, 'a', view, alive('a', 'b', 'c', 'd'));
    expect(pilot.nextChange(5000, 'a', view, alive('a', 'b', 'c', 'd'))).toBeUndefined();
  });

  it('does not count a learner that lags behind the leader as ready', () => {
    const pilot = new Autopilot(config);
    const view = status({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] }, { d: 10 }, 1000);
    pilot.nextChange(0, 'a', view, alive('a', 'b', 'c', 'd', 'e'));
    expect(pilot.nextChange(5000, 'a', view, alive('a', 'b', 'c', 'd', 'e'))).toBeUndefined();
  });

  it('stops at votersMax', () => {
    const pilot = new Autopilot(config);
    const view = status({ voters: ['a', 'b', 'c', 'd', 'e'], learners: ['f', 'g'] });
    const members = alive('a', 'b', 'c', 'd', 'e', 'f', 'g');
    pilot.nextChange(0, 'a', view, members);
    expect(pilot.nextChange(5000, 'a', view, members)).toBeUndefined();
  });

  it('lets a ready learner step in for a dead voter, then removes the dead voter at once', () => {
    const pilot = new Autopilot(config);
    const members: MemberHealth[] = [...alive('a', 'b', 'd'), { id: 'c', state: 'dead', since: 0 }];
    const three = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    pilot.nextChange(0, 'a', three, members);
    expect(pilot.nextChange(1000, 'a', three, members)).toEqual({ type: 'addVoter', node: 'd' });
    const four = status({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(pilot.nextChange(1001, 'a', four, members)).toEqual({ type: 'remove', node: 'c' });
  });

  it('takes a voter that gossip has not heard of for 15 s as dead: its replacement steps in, then it goes', () => {
    // After a full-cluster restart, gossip knows only the live nodes: a voter whose node came back under a new id is no one.
    const pilot = new Autopilot(config);
    const three = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const members = alive('a', 'b', 'd');
    expect(pilot.nextChange(0, 'a', three, members)).toBeUndefined();
    expect(pilot.nextChange(14_999, 'a', three, members)).toBeUndefined();
    expect(pilot.nextChange(15_000, 'a', three, members)).toEqual({ type: 'addVoter', node: 'd' });
    const four = status({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(pilot.nextChange(15_001, 'a', four, members)).toEqual({ type: 'remove', node: 'c' });
  });

  it('takes a suspect voter whose address answers alive under a new id as dead: its replacement steps in at once', () => {
    const pilot = new Autopilot(config);
    const members: MemberHealth[] = [
      ...alive('a', 'b'),
      { id: 'c', address: 'host-c:7000', state: 'suspect', since: 0 },
      { id: 'd', address: 'host-c:7000', state: 'alive', since: 0, heardAgoMs: 0 },
    ];
    const three = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(pilot.nextChange(0, 'a', three, members)).toBeUndefined();
    expect(pilot.nextChange(1000, 'a', three, members)).toEqual({ type: 'addVoter', node: 'd' });
    const four = status({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(pilot.nextChange(1001, 'a', four, members)).toEqual({ type: 'remove', node: 'c' });
    // A suspect voter alone at its address is only suspected: it may yet answer.
    const suspectOnly: MemberHealth[] = [...alive('a', 'b', 'd'), { id: 'c', address: 'host-c:7000', state: 'suspect', since: 0 }];
    const fresh = new Autopilot(config);
    fresh.nextChange(0, 'a', three, suspectOnly);
    expect(fresh.nextChange(1000, 'a', three, suspectOnly)).toBeUndefined();
  });

  it('forgets that a member was unknown once gossip hears of it', () => {
    const pilot = new Autopilot(config);
    const three = status({ voters: ['a', 'b', 'c'], learners: ['d'] });
    pilot.nextChange(0, 'a', three, alive('a', 'b', 'd'));
    pilot.nextChange(10_000, 'a', three, alive('a', 'b', 'c', 'd'));
    expect(pilot.nextChange(20_000, 'a', three, alive('a', 'b', 'd'))).toBeUndefined();
  });

  it('waits out the timeout before removing a dead voter nobody has replaced', () => {
    const pilot = new Autopilot(config);
    const five = status({ voters: ['a', 'b', 'c', 'd', 'e'], learners: [] });
    const members: MemberHealth[] = [...alive('a', 'b', 'c', 'd'), { id: 'e', state: 'dead', since: 0 }];
    expect(pilot.nextChange(4999, 'a', five, members)).toBeUndefined();
    expect(pilot.nextChange(5000, 'a', five, members)).toEqual({ type: 'remove', node: 'e' });
  });

  it('never removes a voter when the rest would not keep a live majority, nor below votersMin', () => {
    const pilot = new Autopilot(config);
    const dead = (id: string): MemberHealth => ({ id, state: 'dead', since: 0 });
    const five = status({ voters: ['a', 'b', 'c', 'd', 'e'], learners: [] });
    expect(pilot.nextChange(10_000, 'a', five, [...alive('a', 'b'), dead('c'), dead('d'), dead('e')])).toBeUndefined();
    const three = status({ voters: ['a', 'b', 'c'], learners: [] });
    expect(pilot.nextChange(10_000, 'a', three, [...alive('a', 'b'), dead('c')])).toBeUndefined();
  });

  it('removes a member that left gracefully at once, and never removes itself', () => {
    const pilot = new Autopilot(config);
    const four = status({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(pilot.nextChange(0, 'a', four, [...alive('a', 'b', 'c'), { id: 'd', state: 'left', since: 0 }])).toEqual({ type: 'remove', node: 'd' });
    expect(pilot.nextChange(0, 'a', four, [...alive('b', 'c', 'd'), { id: 'a', state: 'left', since: 0 }])).toBeUndefined();
  });

  describe('when a voter reports that it is recovering lost data', () => {
    it('demotes it to a learner once it stays recovering for the stabilization time, even below the minimum voter count', () => {
      const pilot = new Autopilot(config);
      const view = status({ voters: ['a', 'b', 'c'], learners: [] }, {}, 100, ['c']);
      expect(pilot.nextChange(0, 'a', view, alive('a', 'b', 'c'))).toBeUndefined();
      expect(pilot.nextChange(999, 'a', view, alive('a', 'b', 'c'))).toBeUndefined();
      expect(pilot.nextChange(1000, 'a', view, alive('a', 'b', 'c'))).toEqual({ type: 'demote', node: 'c' });
    });

    it('leaves a voter that recovers quickly as it is', () => {
      const pilot = new Autopilot(config);
      const members = alive('a', 'b', 'c');
      expect(pilot.nextChange(0, 'a', status({ voters: ['a', 'b', 'c'], learners: [] }, {}, 100, ['c']), members)).toBeUndefined();
      expect(pilot.nextChange(500, 'a', status({ voters: ['a', 'b', 'c'], learners: [] }), members)).toBeUndefined();
      expect(pilot.nextChange(1500, 'a', status({ voters: ['a', 'b', 'c'], learners: [] }, {}, 100, ['c']), members)).toBeUndefined();
    });

    it('promotes it again only once it has stopped recovering and stayed caught up', () => {
      const pilot = new Autopilot(config);
      const members = alive('a', 'b', 'c');
      const recovering = status({ voters: ['a', 'b'], learners: ['c'] }, {}, 100, ['c']);
      expect(pilot.nextChange(0, 'a', recovering, members)).toBeUndefined();
      expect(pilot.nextChange(5000, 'a', recovering, members)).toBeUndefined();
      const repaired = status({ voters: ['a', 'b'], learners: ['c'] });
      expect(pilot.nextChange(6000, 'a', repaired, members)).toBeUndefined();
      expect(pilot.nextChange(7000, 'a', repaired, members)).toEqual({ type: 'addVoter', node: 'c' });
    });
  });
});
