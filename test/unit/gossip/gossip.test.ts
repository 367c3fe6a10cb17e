import { describe, expect, it } from 'vitest';
import { retransmitLimit } from '../../../src/gossip/broadcast-queue.ts';
import { type AckMessage, DEFAULT_GOSSIP_LIMITS, failureDetectionTicksMax, type GossipMessage, type PingReqMessage } from '../../../src/gossip/index.ts';
import { suspicionTimeoutTicks } from '../../../src/gossip/suspicion.ts';
import { Cluster, carries, claim, ping } from './harness.ts';

const FIVE = ['a', 'b', 'c', 'd', 'e'] as const;
const { probeIntervalTicks, suspicionMinTicks, suspicionMaxTicks } = DEFAULT_GOSSIP_LIMITS;

function lastFrom(cluster: Cluster, from: string, type: GossipMessage['type']): GossipMessage | undefined {
  return cluster.sent.filter((message) => message.from === from && message.type === type).at(-1);
}

function ticksBetween(cluster: Cluster, at: string, about: string): number {
  const suspect = cluster.eventsAbout(about, 'suspect').find((event) => event.at === at);
  const dead = cluster.eventsAbout(about, 'dead').find((event) => event.at === at);
  if (suspect === undefined || dead === undefined) throw new Error(`${at} never suspected and buried ${about}`);
  return dead.tick - suspect.tick;
}

describe('joining', () => {
  it("a node joining through one seed learns every member from the seed's sync reply", () => {
    const cluster = Cluster.formed(['a', 'b', 'c', 'd']);
    const joiner = cluster.start('e', 'a');
    expect(joiner.members().map((member) => [member.id, member.state])).toEqual(FIVE.map((id) => [id, 'alive']));
    expect(cluster.eventsAbout('d', 'joined').filter((event) => event.at === 'e')).toHaveLength(1);
  });

  it('the others learn of the joiner by gossip within a few probe rounds', () => {
    const cluster = Cluster.formed(['a', 'b', 'c', 'd']);
    cluster.start('e', 'a');
    const took = cluster.runUntil(() => FIVE.every((id) => cluster.view(id, 'e')?.state === 'alive'), 5 * probeIntervalTicks);
    expect(took).toBeDefined();
  });
});

describe('refutation', () => {
  it('a member that hears itself suspected refutes with incarnation + 1 on its very reply', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.inject(ping('b', 'a', [claim({ id: 'a', state: 'suspect', incarnation: 0, by: 'b' })]));
    expect(cluster.view('a', 'a')).toMatchObject({ state: 'alive', incarnation: 1 });
    expect(carries(lastFrom(cluster, 'a', 'ack')!, 'a')).toMatchObject({ state: 'alive', incarnation: 1 });
    expect(cluster.node('a').counters().refutations).toBe(1);
  });

  it('a member declared dead hears so from its accuser and the refutation revives it everywhere', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.inject(ping('b', 'c', [claim({ id: 'a', state: 'dead', incarnation: 0, by: 'b' })]));
    expect(cluster.view('c', 'a')?.state).toBe('dead');
    const took = cluster.runUntil(() => ['b', 'c'].every((id) => cluster.view(id, 'a')?.state === 'alive'), 3 * probeIntervalTicks);
    expect(took).toBeDefined();
    expect(cluster.view('c', 'a')).toMatchObject({ state: 'alive', incarnation: 1 });
  });

  it("a claim of another address at the member's own incarnation is refuted, and every view gets the right address back", () => {
    // Found by the fuzz suite: a member that took such a claim (it knew an older incarnation) kept
    // the wrong address for good, since the member's own claims at the same incarnation did not
    // supersede it, and the member took the claim as its own.
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.drop = (m) => m.to === 'c' || m.from === 'c';
    cluster.inject(ping('b', 'a', [claim({ id: 'a', state: 'suspect', incarnation: 0, by: 'b' })]));
    cluster.run(2 * probeIntervalTicks);
    expect(cluster.view('a', 'a')?.incarnation).toBe(1);
    expect(cluster.view('c', 'a')?.incarnation).toBe(0);
    cluster.inject(ping('b', 'c', [claim({ id: 'a', state: 'alive', incarnation: 1, address: 'mem://elsewhere', by: 'a' })]));
    expect(cluster.view('c', 'a')?.address).toBe('mem://elsewhere');
    cluster.drop = () => false;
    const righted = cluster.runUntil(() => ['b', 'c'].every((at) => cluster.view(at, 'a')?.address === 'mem://a'), 10 * probeIntervalTicks);
    expect(righted).toBeDefined();
    expect(cluster.view('a', 'a')?.incarnation).toBeGreaterThan(1);
  });

  it('an outdated accusation is answered with the current incarnation on the reply to its sender', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.inject(ping('b', 'a', [claim({ id: 'a', state: 'suspect', incarnation: 0, by: 'b' })]));
    cluster.run(5 * probeIntervalTicks);
    cluster.inject(ping('c', 'a', [claim({ id: 'a', state: 'suspect', incarnation: 0, by: 'c' })]));
    expect(cluster.view('a', 'a')?.incarnation).toBe(1);
    expect(carries(lastFrom(cluster, 'a', 'ack')!, 'a')).toMatchObject({ state: 'alive', incarnation: 1 });
  });
});

describe('anti-entropy', () => {
  it('a peer that passes on a claim older than ours gets ours on our next message to it', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.inject(ping('b', 'c', [claim({ id: 'c', state: 'suspect', incarnation: 0, by: 'b' })]));
    // Long after the refutation has stopped spreading by itself:
    cluster.run(10 * probeIntervalTicks);
    expect(cluster.view('a', 'c')?.incarnation).toBe(1);
    cluster.inject(ping('b', 'a', [claim({ id: 'c', state: 'suspect', incarnation: 0, by: 'b' })]));
    expect(carries(lastFrom(cluster, 'a', 'ack')!, 'c')).toMatchObject({ state: 'alive', incarnation: 1 });
  });

  it('a member buried while cut off is told so by the next probe and is back everywhere within two rounds', () => {
    // Syncs too rare to help: the probes of the dead must do it alone.
    const cluster = Cluster.formed(['a', 'b', 'c'], { syncIntervalTicks: 2000 });
    cluster.drop = (m) => m.from === 'c' || m.to === 'c';
    const bound = failureDetectionTicksMax(DEFAULT_GOSSIP_LIMITS, 3);
    const buried = (of: string, about: string) => cluster.view(of, about)?.state === 'dead';
    const split = () => buried('a', 'c') && buried('b', 'c') && buried('c', 'a') && buried('c', 'b');
    expect(cluster.runUntil(split, bound)).toBeDefined();
    cluster.drop = () => false;
    const everyoneAlive = () =>
      ['a', 'b', 'c'].every((at) =>
        cluster
          .node(at)
          .members()
          .every((m) => m.state === 'alive'),
      );
    expect(cluster.runUntil(everyoneAlive, 2 * 2 * probeIntervalTicks)).toBeDefined();
    expect(cluster.view('a', 'c')?.incarnation).toBe(1);
  });

  it('a probe from a stranger starts a full exchange of views', () => {
    const cluster = Cluster.formed(['a', 'b']);
    cluster.inject(ping('z', 'a', []));
    expect(cluster.sent.some((m) => m.type === 'sync' && m.from === 'a' && m.to === 'z')).toBe(true);
  });
});

describe('incarnation precedence', () => {
  function viewAfter(...claims: Parameters<typeof claim>[0][]): unknown {
    const cluster = Cluster.formed(['a', 'b']);
    for (const fields of claims) cluster.inject(ping('b', 'a', [claim(fields)]));
    const member = cluster.view('a', 'z');
    return member === undefined ? undefined : [member.state, member.incarnation];
  }

  it('ignores a claim with a lower incarnation, whatever its state', () => {
    expect(viewAfter({ id: 'z', state: 'alive', incarnation: 3 }, { id: 'z', state: 'dead', incarnation: 2 })).toEqual(['alive', 3]);
  });

  it('at one incarnation a suspicion overrides alive, but alive does not override a suspicion', () => {
    expect(viewAfter({ id: 'z', state: 'alive', incarnation: 1 }, { id: 'z', state: 'suspect', incarnation: 1 })).toEqual(['suspect', 1]);
    expect(
      viewAfter({ id: 'z', state: 'alive', incarnation: 1 }, { id: 'z', state: 'suspect', incarnation: 1 }, { id: 'z', state: 'alive', incarnation: 1 }),
    ).toEqual(['suspect', 1]);
  });

  it('at one incarnation dead and left override alive and suspect', () => {
    expect(viewAfter({ id: 'z', state: 'alive', incarnation: 1 }, { id: 'z', state: 'dead', incarnation: 1 })).toEqual(['dead', 1]);
    expect(viewAfter({ id: 'z', state: 'suspect', incarnation: 1 }, { id: 'z', state: 'left', incarnation: 1 })).toEqual(['left', 1]);
  });

  it('a higher incarnation overrides any state, which is how the dead come back', () => {
    expect(
      viewAfter({ id: 'z', state: 'alive', incarnation: 1 }, { id: 'z', state: 'dead', incarnation: 1 }, { id: 'z', state: 'alive', incarnation: 2 }),
    ).toEqual(['alive', 2]);
  });

  it('does not admit a member first heard of as dead or left', () => {
    expect(viewAfter({ id: 'z', state: 'dead', incarnation: 1 })).toBeUndefined();
    expect(viewAfter({ id: 'z', state: 'left', incarnation: 1 })).toBeUndefined();
  });

  it('ignores and counts malformed claims', () => {
    const cluster = Cluster.formed(['a', 'b']);
    const bad = [
      claim({ id: 'z', state: 'alive', incarnation: -1 }),
      claim({ id: 'z', state: 'alive', incarnation: 1.5 }),
      { ...claim({ id: 'z', state: 'alive' }), state: 'zombie' as 'alive' },
      claim({ id: '', state: 'alive' }),
      // Longer than any layer accepts an id or an address (NODE_LIMITS): admitted, they would reach Raft.
      claim({ id: 'z'.repeat(257), state: 'alive' }),
      { ...claim({ id: 'z', state: 'alive' }), address: `${'h'.repeat(300)}:1` },
      { ...claim({ id: 'z', state: 'alive' }), address: 'two words:1' },
    ];
    cluster.inject(ping('b', 'a', bad));
    expect(cluster.view('a', 'z')).toBeUndefined();
    expect(cluster.node('a').counters().updatesMalformed).toBe(7);
  });
});

describe('probing', () => {
  it('an unanswered direct probe is retried through k others, whose relayed acks keep the target alive', () => {
    const cluster = Cluster.formed(FIVE);
    const cut = (x: string, y: string) => (m: GossipMessage) => (m.from === x && m.to === y) || (m.from === y && m.to === x);
    cluster.drop = cut('a', 'c');
    cluster.run(20 * probeIntervalTicks);
    const requests = cluster.sent.filter((m): m is PingReqMessage => m.type === 'pingReq' && m.from === 'a' && m.target === 'c');
    expect(requests.length).toBeGreaterThan(0);
    const first = requests[0]!;
    expect(new Set(requests.filter((m) => m.probe === first.probe).map((m) => m.to)).size).toBe(DEFAULT_GOSSIP_LIMITS.indirectChecks);
    const relayed = cluster.sent.filter((m): m is AckMessage => m.type === 'ack' && m.to === 'a' && m.from !== 'c');
    expect(relayed.some((m) => m.probe === first.probe)).toBe(true);
    expect(cluster.events.filter((event) => event.type === 'suspect')).toEqual([]);
  });

  it('a probe without any ack by the end of the interval suspects the target and gossips it', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.down.add('c');
    expect(cluster.runUntil(() => cluster.view('a', 'c')?.state === 'suspect', 4 * probeIntervalTicks)).toBeDefined();
    cluster.run(probeIntervalTicks);
    const gossiped = cluster.sent.filter((m) => m.from === 'a' && m.to === 'b' && carries(m, 'c')?.state === 'suspect');
    expect(gossiped.length).toBeGreaterThan(0);
    expect(carries(gossiped[0]!, 'c')).toMatchObject({ by: 'a', incarnation: 0 });
  });

  it('a killed member is declared dead by every live member within failureDetectionTicksMax', () => {
    const cluster = Cluster.formed(FIVE);
    cluster.down.add('e');
    const bound = failureDetectionTicksMax(DEFAULT_GOSSIP_LIMITS, FIVE.length);
    const took = cluster.runUntil(() => ['a', 'b', 'c', 'd'].every((id) => cluster.view(id, 'e')?.state === 'dead'), bound);
    expect(took).toBeDefined();
    expect(took).toBeLessThanOrEqual(bound);
  });
});

describe('suspicion timeout', () => {
  it("an accusation nobody else confirms lasts suspicionMaxTicks, however often the accuser's probes fail again", () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.down.add('b').add('c');
    cluster.run(2 * probeIntervalTicks + suspicionMaxTicks + 2 * probeIntervalTicks);
    expect(ticksBetween(cluster, 'a', 'b')).toBe(suspicionMaxTicks);
    expect(ticksBetween(cluster, 'a', 'c')).toBe(suspicionMaxTicks);
  });

  it('a suspicion confirmed by suspicionConfirmations distinct members ends at suspicionMinTicks', () => {
    const cluster = Cluster.formed(FIVE);
    cluster.down.add('b').add('c').add('d').add('e');
    const accusations = ['b', 'c', 'd', 'x', 'c', 'b'].map((by) => claim({ id: 'e', state: 'suspect', by }));
    cluster.inject(ping('b', 'a', accusations));
    cluster.run(suspicionMinTicks);
    expect(ticksBetween(cluster, 'a', 'e')).toBe(suspicionMinTicks);
  });

  it('a confirmation is passed on with its accuser, so that the others count it too', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.inject(ping('b', 'a', [claim({ id: 'z', state: 'alive' })]));
    cluster.inject(ping('b', 'a', [claim({ id: 'z', state: 'suspect', by: 'b' }), claim({ id: 'z', state: 'suspect', by: 'x' })]));
    cluster.run(probeIntervalTicks);
    expect(cluster.sent.some((m) => m.from === 'a' && carries(m, 'z')?.by === 'x')).toBe(true);
    expect(suspicionTimeoutTicks(1, 1, suspicionMinTicks, suspicionMaxTicks)).toBe(suspicionMinTicks);
  });
});

describe('piggybacking', () => {
  it('a claim rides on exactly retransmitMultiplier * ceil(log10(N + 1)) messages of each member that spreads it', () => {
    const cluster = Cluster.formed(['a', 'b', 'c']);
    cluster.start('d', 'a');
    cluster.run(20 * probeIntervalTicks);
    const limit = retransmitLimit(DEFAULT_GOSSIP_LIMITS.retransmitMultiplier, 4);
    for (const id of ['a', 'b', 'c']) {
      const carrying = cluster.sent.filter((m) => m.from === id && carries(m, 'd')?.state === 'alive');
      expect(carrying, `messages from ${id}`).toHaveLength(limit);
    }
  });

  it('never puts more than piggybackMax claims on one message', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const cluster = Cluster.formed(ids, { piggybackMax: 2 });
    const everyoneKnown = () => ids.every((id) => cluster.node(id).members().length === ids.length);
    expect(cluster.runUntil(everyoneKnown, DEFAULT_GOSSIP_LIMITS.syncIntervalTicks)).toBeDefined();
    expect(Math.max(...cluster.sent.map((m) => m.updates.length))).toBe(2);
  });

  it('refuses and counts members beyond membersMax', () => {
    const cluster = Cluster.formed(['a', 'b', 'c', 'd'], { membersMax: 4, indirectChecks: 2 });
    cluster.start('e', 'a');
    expect(
      cluster
        .node('a')
        .members()
        .map((m) => m.id),
    ).toEqual(['a', 'b', 'c', 'd']);
    expect(cluster.node('a').counters().membersRejected).toBeGreaterThan(0);
    expect(cluster.node('e').members()).toHaveLength(4);
  });
});

describe('leaving and forgetting', () => {
  it('a member that leaves announces left at a higher incarnation, and everyone reports left, not dead', () => {
    const cluster = Cluster.formed(['a', 'b', 'c', 'd']);
    cluster.node('d').leave();
    expect(cluster.view('d', 'd')).toMatchObject({ state: 'left', incarnation: 1 });
    expect(cluster.runUntil(() => cluster.node('d').leaveAnnounced(), 5 * probeIntervalTicks)).toBeDefined();
    cluster.down.add('d');
    cluster.run(failureDetectionTicksMax(DEFAULT_GOSSIP_LIMITS, 4));
    for (const id of ['a', 'b', 'c']) expect(cluster.view(id, 'd')).toMatchObject({ state: 'left', incarnation: 1 });
    expect(
      cluster
        .eventsAbout('d', 'left')
        .map((event) => event.at)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(cluster.eventsAbout('d', 'dead')).toEqual([]);
  });

  it.each(['dead', 'left'] as const)('a %s member is forgotten deadRetentionTicks after it got there', (state) => {
    const limits = { suspicionMinTicks: 20, suspicionMaxTicks: 40, syncIntervalTicks: 50, deadRetentionTicks: 100, deadProbeTicks: 50 };
    const cluster = Cluster.formed(['a', 'b', 'c'], limits);
    if (state === 'left') cluster.node('c').leave();
    cluster.run(3 * probeIntervalTicks);
    cluster.down.add('c');
    cluster.run(limits.deadRetentionTicks + failureDetectionTicksMax({ ...DEFAULT_GOSSIP_LIMITS, ...limits }, 3));
    for (const at of ['a', 'b']) {
      const reached = cluster.eventsAbout('c', state).find((event) => event.at === at);
      const forgotten = cluster.eventsAbout('c', 'forgotten').find((event) => event.at === at);
      expect(forgotten!.tick - reached!.tick).toBe(limits.deadRetentionTicks);
      expect(cluster.view(at, 'c')).toBeUndefined();
    }
  });
});
