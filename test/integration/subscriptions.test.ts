import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type Delivery, type QuorumqClient } from '../../src/client/index.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: push subscriptions over WebSocket deliver from any node, never hold more than `prefetch`
// unsettled deliveries, and give their leases back as soon as the subscriber's connection closes.
describe('push subscriptions on a 3-node cluster', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  let clients: QuorumqClient[] = [];

  beforeEach(() => {
    test = suite();
  });

  afterEach(() => {
    for (const client of clients) client.close();
    clients = [];
  });

  /** A client that talks to one node only, so that its subscription lives on that node. */
  function clientOf(node: number): QuorumqClient {
    const client = connect({ nodes: [test.cluster.nodes[node]!.address], retryForMs: 30_000, preferLeader: false });
    clients.push(client);
    return client;
  }

  /** The role and address of the node a client's connection landed on. */
  async function landing(client: QuorumqClient): Promise<{ role: string; address: string }> {
    return ((await client.cluster({ stale: true })) as { self: { role: string; address: string } }).self;
  }

  async function pickFollowers(): Promise<{ follower: number; other: number }> {
    const leader = await test.waitForLeader();
    const followers = [0, 1, 2].filter((index) => index !== leader);
    return { follower: followers[0]!, other: followers[1]! };
  }

  async function enqueueAll(node: number, queue: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await test.enqueue(node, queue, { n: i }, `${queue}-${i}`)).id);
    return ids;
  }

  it('pushes messages, in order, to a subscriber on a follower', async () => {
    const { follower, other } = await pickFollowers();
    const client = clientOf(follower);
    const bodies: unknown[] = [];
    await client.subscribe(
      'push-basic',
      async (message) => {
        bodies.push(message.body);
        await client.ack('push-basic', { receipts: [message.receipt] });
      },
      { prefetch: 10 },
    );
    await enqueueAll(other, 'push-basic', 20);
    await waitFor(async () => (bodies.length >= 20 ? true : undefined), 20_000, '20 pushed messages');
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i })));
  });

  it('never has more than prefetch deliveries unsettled', async () => {
    const { follower, other } = await pickFollowers();
    const client = clientOf(follower);
    const prefetch = 5;
    const unsettled: Delivery[] = [];
    const seen = new Set<string>();
    let mostUnsettled = 0;
    await client.subscribe(
      'push-credit',
      (message) => {
        seen.add(message.id);
        unsettled.push(message);
        mostUnsettled = Math.max(mostUnsettled, unsettled.length);
      },
      { prefetch, visibilityMs: 60_000 },
    );
    const ids = await enqueueAll(other, 'push-credit', 30);
    while (seen.size < ids.length) {
      // Settle two at a time, only once the subscription has used all its credit (or the queue ran dry).
      await waitFor(async () => (unsettled.length === prefetch || seen.size === ids.length ? true : undefined), 20_000, `${prefetch} unsettled deliveries`);
      const settling = unsettled.slice(0, 2);
      await client.ack('push-credit', { receipts: settling.map((message) => message.receipt) });
      unsettled.splice(0, settling.length);
    }
    expect(mostUnsettled).toBe(prefetch);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('gives the leases of a closed connection back at once, long before they expire', async () => {
    const { follower, other } = await pickFollowers();
    const subscriber = clientOf(follower);
    const held: Delivery[] = [];
    await subscriber.subscribe(
      'push-release',
      (message) => {
        held.push(message);
      },
      { prefetch: 5, visibilityMs: 60_000 },
    );
    const ids = await enqueueAll(other, 'push-release', 5);
    await waitFor(async () => (held.length === 5 ? true : undefined), 20_000, 'five leases held by the subscriber');
    subscriber.close();
    const redelivered: Delivery[] = [];
    await waitFor(
      async () => {
        const reply = await test.request(other, 'POST', '/queues/push-release/receive', { max: 5, waitMs: 1000, visibilityMs: 60_000 });
        redelivered.push(...(reply.body.messages as Delivery[]));
        return redelivered.length >= 5 ? true : undefined;
      },
      15_000,
      'the five released messages, well within their 60 s visibility',
    );
    expect(redelivered.map((message) => message.id).sort()).toEqual([...ids].sort());
    expect(redelivered.every((message) => message.attempt === 2)).toBe(true);
  });

  it('moves a client given only a follower to the leader, unless told to stay', async () => {
    const { follower } = await pickFollowers();
    const address = test.cluster.nodes[follower]!.address;
    const moving = connect({ nodes: [address] });
    const staying = clientOf(follower);
    clients.push(moving);
    expect((await landing(moving)).role).toBe('leader');
    expect(await landing(staying)).toMatchObject({ role: 'follower', address });
  });

  it('moves to another node when the node holding it is killed, and keeps delivering', async () => {
    const client = connect({ nodes: test.cluster.nodes.map((node) => node.address), retryForMs: 30_000 });
    clients.push(client);
    const bodies = new Set<number>();
    await client.subscribe(
      'push-move',
      async (message) => {
        bodies.add((message.body as { n: number }).n);
        await client.ack('push-move', { receipts: [message.receipt] });
      },
      { prefetch: 10, visibilityMs: 5000 },
    );
    const host = await test.subscriptionHost();
    await test.cluster.kill(host, 'SIGKILL');
    const survivor = [0, 1, 2].find((index) => index !== host)!;
    await enqueueAll(survivor, 'push-move', 10);
    await waitFor(async () => (bodies.size === 10 ? true : undefined), 30_000, 'the ten messages enqueued after the kill');
    expect(await test.subscriptionHost()).not.toBe(host);
    test.cluster.start(host);
    await test.waitForLeader();
  });
});
