import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, type QuorumqClient } from '../../../src/client/index.ts';
import type { ClientFrame } from '../../../src/shared/index.ts';
import { FakeNode, Refusal } from './fake-node.ts';

// Goal: a client whose connection opens on a follower moves to the leader that follower names, and
// after leaving a node it does not go back to it on a follower's word alone (a follower names the
// old leader until the election is over; going back to a paused node costs a connect timeout).
function node(role: 'leader' | 'follower', leader: () => string) {
  return (frame: ClientFrame): unknown => {
    if (frame.op === 'cluster') return { self: { role }, leader: { id: 'l', address: leader() } };
    if (frame.op === 'enqueue') return { ids: frame.messages.map((_, index) => `m${index}`), seqs: frame.messages.map((_, index) => index + 1) };
    return {};
  };
}

describe('the SDK and the leader', () => {
  let nodes: FakeNode[] = [];
  let client: QuorumqClient | undefined;

  afterEach(async () => {
    client?.close();
    await Promise.all(nodes.map((fake) => fake.stop()));
    nodes = [];
  });

  async function followerAndLeader(): Promise<{ follower: FakeNode; leader: FakeNode }> {
    const leader = await FakeNode.start(node('leader', () => leader.address));
    const follower = await FakeNode.start(node('follower', () => leader.address));
    nodes = [follower, leader];
    return { follower, leader };
  }

  it('sends its writes to the leader when given only a follower', async () => {
    const { follower, leader } = await followerAndLeader();
    client = connect({ nodes: [follower.address], retryForMs: 2000, requestTimeoutMs: 2000 });
    await client.enqueue('jobs', 'a');
    expect(leader.framesOf('enqueue')).toHaveLength(1);
    expect(follower.framesOf('enqueue')).toHaveLength(0);
  });

  it('stays on the follower when told to', async () => {
    const { follower, leader } = await followerAndLeader();
    client = connect({ nodes: [follower.address], retryForMs: 2000, requestTimeoutMs: 2000, preferLeader: false });
    await client.enqueue('jobs', 'a');
    expect(follower.framesOf('enqueue')).toHaveLength(1);
    expect(leader.connectionCount).toBe(0);
  });

  it('does not go back to the node it left when a follower still names it leader', async () => {
    const { follower, leader } = await followerAndLeader();
    client = connect({ nodes: [follower.address], retryForMs: 10_000, requestTimeoutMs: 5000 });
    await client.enqueue('jobs', 'a');
    // The leader goes silent: the client gives it up and lands on the follower, which still names it.
    leader.pause();
    await client.enqueue('jobs', 'b');
    expect(leader.framesOf('enqueue')).toHaveLength(1);
    expect(follower.framesOf('enqueue')).toHaveLength(1);
  });

  it('leaves a node that keeps answering NO_LEADER (cut off from the rest), and not one that says so once', async () => {
    const healthy = await FakeNode.start(node('leader', () => healthy.address));
    let refusals = 0;
    const cutOff = await FakeNode.start((frame) => {
      if (frame.op === 'cluster') return { self: { role: 'follower' }, leader: null };
      refusals++;
      return new Refusal({ code: 'NO_LEADER', message: 'no leader is known right now; retry shortly' });
    });
    nodes = [cutOff, healthy];
    // The client starts at a random node of its list: this one starts at the first.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    client = connect({ nodes: [cutOff.address, healthy.address], retryForMs: 10_000, requestTimeoutMs: 2000, preferLeader: false });
    random.mockRestore();
    await client.enqueue('jobs', 'a');
    expect(refusals).toBe(2);
    expect(healthy.framesOf('enqueue')).toHaveLength(1);
  });
});
