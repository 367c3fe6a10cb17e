import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { makeSecureSetup, type SecureSetup } from '../../cluster/secure-setup.ts';
import { encode } from '../../src/shared/codec.ts';
import { PEER_PROTOCOL_VERSION } from '../../src/transport/peer-frames.ts';
import { beliefs, deadNodes, expectIntact, expectServes, type KeptMessages, keepMessages, nodeIds, settledLeadership } from '../support/cluster-watch.ts';
import { PeerListener } from '../support/peer-listener.ts';
import { type Closed, RawPeer } from '../support/raw-peer.ts';
import { within } from '../support/within.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: only a peer that proves it holds the cluster key is heard, an id belongs to the link that
// proved it first, and even a peer holding the key cannot kill a node, forge answers to other
// clients' requests or make a node allocate what a header announces (issue 19, "Peers
// authenticate" and "Input never kills a node").

function raft(message: Record<string, unknown>): Record<string, unknown> {
  return { t: 'raft', message, clock: Date.now() };
}

/** An address on this host where nothing listens: what a peer that cannot be dialled back claims. */
async function deadAddress(): Promise<string> {
  const [port] = await freePorts(1);
  return `127.0.0.1:${port}`;
}

/** The handshake timeout is 5 s: a link that is neither refused nor closed by then was let in. */
const LINK_CLOSE_WAIT_MS = 8_000;

/**
 * Forged Raft frames from `from`, as a stranger would send them after its hello: an append that
 * purges `queue` on a follower (its log position read from that follower), a vote at term 1000,
 * and a heartbeat to the leader at the leader's own term.
 */
async function forgedRaftFrames(test: TestCluster, from: string, queue: string): Promise<Map<number, Record<string, unknown>[]>> {
  const leadership = await settledLeadership(test);
  const views = await beliefs(test);
  const followers = views.filter((view) => view.index !== leadership.leaderIndex);
  const [purged, voted] = followers;
  const term = leadership.term;
  const last = purged!.appliedIndex;
  const purge = encode({ type: 'purge', ts: Date.now(), queue });
  return new Map([
    [
      purged!.index,
      [
        raft({
          type: 'append',
          from,
          to: purged!.id,
          term,
          prevIndex: last,
          prevTerm: term,
          entries: [{ index: last + 1, term, kind: 'normal', data: purge }],
          commit: last + 1,
        }),
      ],
    ],
    [voted!.index, [raft({ type: 'vote', from, to: voted!.id, term: 1000, lastIndex: 1_000_000, lastTerm: 999, transfer: true })]],
    [leadership.leaderIndex, [raft({ type: 'heartbeat', from, to: leadership.leader, term, commit: 0, readContext: '' })]],
  ]);
}

describe('peer links of a cluster with a cluster key', () => {
  let secure: SecureSetup | undefined;
  const suite = clusterForSuite(3, [], async (dataRoot) => {
    secure = await makeSecureSetup(join(dataRoot, 'secure'), { clusterKey: true });
    return secure;
  });
  let test: TestCluster;
  let kept: KeptMessages;
  let ids: string[];
  const peers: RawPeer[] = [];
  const listeners: PeerListener[] = [];

  beforeAll(async () => {
    kept = await keepMessages(suite(), 'kept', 3);
    ids = await nodeIds(suite());
  });
  beforeEach(() => {
    test = suite();
  });
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    for (const listener of listeners.splice(0)) await listener.close();
  });

  function clusterKey(): string {
    return readFileSync(secure!.files.clusterKey!, 'utf8');
  }

  /** Every node lives, the term and leader are `before`'s, the kept messages are intact on every replica. */
  async function expectUndisturbed(before: { term: number; leader: string }, what: string): Promise<void> {
    expect(deadNodes(test), `nodes that died after ${what}:\n${test.tail()}`).toEqual([]);
    const after = await settledLeadership(test);
    expect({ term: after.term, leader: after.leader }, `term and leader after ${what}`).toEqual({ term: before.term, leader: before.leader });
    await expectIntact(test, kept);
  }

  /**
   * What a stranger's frames could have changed, seen from every node at once: which nodes died,
   * each live node's term and leader, its own count of the kept queue, and whether it lists `id`.
   */
  async function observe(id: string): Promise<Record<string, unknown>> {
    const views = await beliefs(test);
    const keptReady: unknown[] = [];
    for (const view of views) {
      const stats = await test.request(view.index, 'GET', `/queues/${kept.queue}?stale=1`).catch(() => undefined);
      keptReady.push(stats?.body?.ready);
    }
    return {
      dead: deadNodes(test),
      terms: views.map((view) => view.term),
      leaders: views.map((view) => view.leader),
      keptReady,
      listingTheStranger: views.filter((view) => view.members.includes(id)).map((view) => view.index),
    };
  }

  function unchanged(before: { term: number; leader: string }): Record<string, unknown> {
    const count = test.cluster.nodes.length;
    return {
      dead: [],
      terms: Array(count).fill(before.term),
      leaders: Array(count).fill(before.leader),
      keptReady: Array(count).fill(kept.ids.length),
      listingTheStranger: [],
    };
  }

  /** Sends the forged frames over links that say hello as `id`; `handshake` opens each link. */
  async function attack(id: string, handshake: (address: string) => Promise<RawPeer>): Promise<{ closed: (Closed | undefined)[]; linked: RawPeer[] }> {
    const frames = await forgedRaftFrames(test, id, kept.queue);
    const linked: RawPeer[] = [];
    for (const [index, burst] of frames) {
      const peer = await handshake(test.cluster.nodes[index]!.address);
      peers.push(peer);
      linked.push(peer);
      for (const frame of burst) peer.send(frame);
    }
    const closed = await Promise.all(linked.map((peer) => within(peer.closed, LINK_CLOSE_WAIT_MS)));
    return { closed, linked };
  }

  it('closes the link of a stranger without the key, and nothing it sends after its hello changes anything', async () => {
    await expectIntact(test, kept);
    const before = await settledLeadership(test);
    const id = 'stranger-without-key';
    const { closed, linked } = await attack(id, async (address) => {
      const peer = await RawPeer.open(address);
      // No handshake to wait for: the hello and the forged frames leave together.
      peer.send({ t: 'hello', v: PEER_PROTOCOL_VERSION, id, address: await deadAddress(), founders: null });
      return peer;
    });
    expect(await observe(id), `after a stranger without the key:\n${test.tail()}`).toEqual(unchanged(before));
    await expectUndisturbed(before, 'a stranger without the key');
    for (const [position, code] of closed.entries()) {
      expect(code?.code, 'closed for failing authentication (1008), or at the handshake timeout').toSatisfy(
        (value: number | undefined) => value === 1008 || value === 1006,
      );
      expect(
        linked[position]!.received.filter((frame) => (frame as { t?: string }).t === 'helloAck'),
        'no answer to a hello without a proof',
      ).toEqual([]);
    }
  });

  it('refuses a stranger with a wrong key the same way', async () => {
    await expectIntact(test, kept);
    const before = await settledLeadership(test);
    const id = 'stranger-with-wrong-key';
    const wrongKey = randomBytes(32).toString('base64');
    const { closed } = await attack(id, async (address) => (await RawPeer.dial(address, { id, address: await deadAddress(), key: wrongKey })).peer);
    expect(await observe(id), `after a stranger with a wrong key:\n${test.tail()}`).toEqual(unchanged(before));
    await expectUndisturbed(before, 'a stranger with a wrong key');
    for (const code of closed) expect(code?.code, 'closed for failing authentication').toBe(1008);
  });

  it('closes a link whose hello names 127.0.0.1:99999 and lives', async () => {
    const before = await settledLeadership(test);
    const { peer } = await RawPeer.dial(test.cluster.nodes[before.leaderIndex]!.address, {
      id: 'unreachable-address',
      address: '127.0.0.1:99999',
      key: clusterKey(),
    });
    peers.push(peer);
    const closed = await within(peer.closed, LINK_CLOSE_WAIT_MS);
    expect(closed, 'the link was closed').toBeDefined();
    expect(peer.received.filter((frame) => (frame as { t?: string }).t === 'helloAck')).toEqual([]);
    await expectUndisturbed(before, 'a hello naming port 99999');
    for (let index = 0; index < test.cluster.nodes.length; index++) await expectServes(test, index, 'port 99999');
  });

  it('refuses a peer with the key that claims a live member id from another address, and the member stays healthy', async () => {
    const before = await settledLeadership(test);
    const victim = (before.leaderIndex + 1) % test.cluster.nodes.length;
    const victimAddress = test.cluster.nodes[victim]!.address;
    const { peer } = await RawPeer.dial(test.cluster.nodes[before.leaderIndex]!.address, { id: ids[victim]!, address: await deadAddress(), key: clusterKey() });
    peers.push(peer);
    const closed = await within(peer.closed, LINK_CLOSE_WAIT_MS);
    // The member, not the impostor, is what the leader links to and replicates to.
    await expectServes(test, before.leaderIndex, 'an impostor');
    await expectUndisturbed(before, 'an impostor of a live member');
    const view = await test.request(before.leaderIndex, 'GET', '/cluster?stale=1');
    const member = view.body.members.find((candidate: { id: string }) => candidate.id === ids[victim]);
    expect(member, JSON.stringify(view.body.members)).toMatchObject({ address: victimAddress, state: 'alive', connected: true });
    expect((await test.request(victim, 'GET', '/health')).status).toBe(200);
    expect(closed?.code, 'the impostor link is refused: id in use').toBe(1008);
  });

  it('survives what a peer holding the key sends: unknown frames, stray heartbeats, huge snapshot headers, invalid forwards, forged forward replies', async () => {
    const key = clusterKey();
    const before = await settledLeadership(test);
    const leaderAddress = test.cluster.nodes[before.leaderIndex]!.address;
    const [snapshotTarget, floodTarget] = [1, 2].map((step) => (before.leaderIndex + step) % test.cluster.nodes.length) as [number, number];
    const insider = 'insider-with-key';
    const listener = await PeerListener.start({ id: insider, key });
    listeners.push(listener);

    // 1. A Raft frame of a type no member sends: the link closes, the leader lives.
    const unknown = (await RawPeer.dial(leaderAddress, { id: 'insider-unknown-frame', address: await deadAddress(), key })).peer;
    peers.push(unknown);
    unknown.send(raft({ type: 'bogus', from: 'insider-unknown-frame', to: before.leader, term: before.term }));
    const unknownClosed = await within(unknown.closed, LINK_CLOSE_WAIT_MS);
    expect(deadNodes(test), `after an unknown Raft frame:\n${test.tail()}`).toEqual([]);

    // 2. A heartbeat to the leader at its own term, then a forward of an enqueue with priority 42.
    const toLeader = await RawPeer.dial(leaderAddress, { id: insider, address: listener.address, key }).catch((error: unknown) => {
      throw new Error(
        `the leader takes no link after an unknown Raft frame (${String(error)}); that link closed with ${JSON.stringify(unknownClosed)}\n${test.tail()}`,
      );
    });
    peers.push(toLeader.peer);
    expect(toLeader.outcome).toBe('accepted');
    await waitFor(async () => (listener.linkedFrom.has(before.leader) ? true : undefined), 15_000, 'the leader linking back to the insider');
    toLeader.peer.send(raft({ type: 'heartbeat', from: insider, to: before.leader, term: before.term, commit: 0, readContext: '' }));
    toLeader.peer.send({ t: 'forward', requestId: 7, request: { op: 'enqueue', queue: 'forged', messages: [{ body: 'forged', priority: 42 }], batch: false } });
    const reply = await waitFor(
      async () => listener.received.map((entry) => entry.frame as Record<string, any>).find((frame) => frame.t === 'forwardReply' && frame.requestId === 7),
      15_000,
      'the leader answering the forward',
    ).catch((error: unknown) => ({ missing: String(error) }));
    // A linearizable read goes through the leader's Raft loop, after the heartbeat.
    const forged = await test.request(before.leaderIndex, 'GET', '/queues/forged').catch((error: unknown) => ({ status: 0, body: String(error) }));
    expect(deadNodes(test), `after a stray heartbeat and a bad forward:\n${test.tail()}`).toEqual([]);

    // 3. A snapshot header announcing 2,000,000,000 bytes, sent to a follower.
    // Resident memory, and V8's external memory, where a buffer of the announced size would be counted even untouched.
    const [residentBefore, externalBefore] = await test.metrics(snapshotTarget, ['process_resident_memory_bytes', 'nodejs_external_memory_bytes']);
    const toFollower = await RawPeer.dial(test.cluster.nodes[snapshotTarget]!.address, { id: insider, address: listener.address, key });
    peers.push(toFollower.peer);
    const header = {
      message: {
        type: 'snapshot',
        from: insider,
        to: ids[snapshotTarget],
        term: before.term,
        snapshot: { meta: { index: 1_000_000, term: before.term, membership: { voters: [...ids], learners: [] } } },
      },
      bytes: 2_000_000_000,
      digest: randomBytes(32),
    };
    toFollower.peer.send({ t: 'snapshotChunk', transfer: 1, seq: 0, data: randomBytes(64 * 1024), header });
    await waitFor(async () => (listener.linkedFrom.has(ids[snapshotTarget]!) ? true : undefined), 15_000, 'the follower linking back to the insider');
    // The follower answers a forward (it is no leader) on the same link, so the chunk was handled before.
    toFollower.peer.send({ t: 'forward', requestId: 8, request: { op: 'purge', queue: 'nothing-here' } });
    await waitFor(
      async () =>
        listener.received.some((entry) => entry.from === ids[snapshotTarget] && (entry.frame as { t?: string }).t === 'forwardReply') ? true : undefined,
      15_000,
      'the follower answering after the chunk',
    ).catch(() => undefined);
    const [residentAfter, externalAfter] = await test
      .metrics(snapshotTarget, ['process_resident_memory_bytes', 'nodejs_external_memory_bytes'])
      .catch(() => [Number.NaN, Number.NaN]);

    // 4. Forged forward replies to a follower for request ids 1..2000 while a client enqueues through it.
    const toFlooded = await RawPeer.dial(test.cluster.nodes[floodTarget]!.address, { id: insider, address: listener.address, key });
    peers.push(toFlooded.peer);
    let enqueuing = true;
    const flood = (async () => {
      let rounds = 0;
      while (enqueuing && toFlooded.peer.isOpen) {
        for (let requestId = 1; requestId <= 2000; requestId++)
          toFlooded.peer.send({ t: 'forwardReply', requestId, ok: true, result: { id: `${900_000 + requestId}`, seq: 900_000 + requestId } });
        rounds++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return rounds;
    })();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, number) =>
        test
          .request(floodTarget, 'POST', '/queues/flooded/messages', { body: { number }, dedupId: `flooded-${number}` })
          .catch((error: unknown) => ({ status: 0, body: String(error) })),
      ),
    ).finally(() => {
      enqueuing = false;
    });
    const floodRounds = await flood;

    expect(unknownClosed?.code, 'an unknown Raft frame closes the link as malformed').toBe(1002);
    expect(reply, 'the leader refuses the forwarded priority 42').toMatchObject({ t: 'forwardReply', requestId: 7, ok: false, error: { code: 'BAD_REQUEST' } });
    expect(forged.status, `nothing was enqueued from the forward: ${JSON.stringify(forged.body)}`).toBe(404);
    const MiB = 1024 * 1024;
    expect((residentAfter - residentBefore) / MiB, 'resident memory growth (MiB) after a 2 GB snapshot header').toBeLessThan(256);
    expect((externalAfter - externalBefore) / MiB, 'external memory growth (MiB) after a 2 GB snapshot header').toBeLessThan(256);
    expect(floodRounds).toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      const status = await test.request(floodTarget, 'GET', `/queues/flooded/messages/${answer.body.id}`);
      expect(status.status, `the answer ${JSON.stringify(answer.body)} names a real message`).toBe(200);
      expect(status.body.seq).toBe(answer.body.seq);
    }
    const flooded = await test.request(before.leaderIndex, 'GET', '/queues/flooded');
    expect(flooded.body.ready).toBe(30);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(30);
    await expectUndisturbed(before, 'a peer holding the key');
  });
});

describe('peer links of a cluster without a key, on loopback', () => {
  const suite = clusterForSuite(3);
  const peers: RawPeer[] = [];

  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
  });

  it("takes a stranger's word, as documented, but its unknown Raft frame and a stray heartbeat kill no node", async () => {
    const test = suite();
    const kept = await keepMessages(test, 'kept', 3);
    const before = await settledLeadership(test);
    const leaderAddress = test.cluster.nodes[before.leaderIndex]!.address;

    const first = await RawPeer.dial(leaderAddress, { id: 'loopback-stranger', address: await deadAddress() });
    peers.push(first.peer);
    expect(first.outcome, 'without a key, a hello is believed').toBe('accepted');
    expect((first.peer.received[0] as { t?: string }).t).toBe('helloAck');
    first.peer.send(raft({ type: 'bogus', from: 'loopback-stranger', to: before.leader, term: before.term }));
    const closed = await within(first.peer.closed, LINK_CLOSE_WAIT_MS);

    const second = await RawPeer.dial(leaderAddress, { id: 'loopback-stranger-2', address: await deadAddress() }).catch((error: unknown) => {
      throw new Error(
        `the leader takes no link after an unknown Raft frame (${String(error)}); that link closed with ${JSON.stringify(closed)}\n${test.tail()}`,
      );
    });
    peers.push(second.peer);
    second.peer.send(raft({ type: 'heartbeat', from: 'loopback-stranger-2', to: before.leader, term: before.term, commit: 0, readContext: '' }));
    // A linearizable read goes through the leader's Raft loop, after the heartbeat.
    const read = await test.request(before.leaderIndex, 'GET', `/queues/${kept.queue}`).catch((error: unknown) => ({ status: 0, body: String(error) }));

    expect(deadNodes(test), test.tail()).toEqual([]);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    const after = await settledLeadership(test);
    expect({ term: after.term, leader: after.leader }).toEqual({ term: before.term, leader: before.leader });
    await expectIntact(test, kept);
    for (let index = 0; index < test.cluster.nodes.length; index++) await expectServes(test, index, 'loopback stranger');
    expect(closed?.code, 'an unknown Raft frame closes the link as malformed').toBe(1002);
  });
});
