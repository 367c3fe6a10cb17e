import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type QuorumqClient } from '../../src/client/index.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: an operator can look at a queue's messages, by state and with their bodies, from any node,
// without leasing them: a look never counts as a delivery nor pushes a message toward the DLQ.
describe('admin operations on a real cluster', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  let client: QuorumqClient;
  beforeEach(() => {
    test = suite();
    client = connect({ nodes: test.cluster.nodes.map((node) => node.address) });
  });
  afterEach(() => client.close());

  it('peeks ready messages over HTTP on a follower and through the SDK, in pages, leasing nothing', async () => {
    const leader = await test.waitForLeader();
    const follower = (leader + 1) % 3;
    for (let n = 1; n <= 5; n++) await test.enqueue(leader, 'peeked', { n }, `peek-${n}`);
    const first = await test.request(follower, 'GET', '/queues/peeked/messages?state=ready&limit=3');
    expect(first.status).toBe(200);
    expect(first.body.messages.map((peeked: { body: { n: number } }) => peeked.body.n)).toEqual([1, 2, 3]);
    expect(first.body.messages[0]).toMatchObject({ state: 'ready', attempt: 0, priority: 0 });
    const second = await client.peek('peeked', { limit: 3, after: first.body.next });
    expect(second.messages.map((peeked) => (peeked.body as { n: number }).n)).toEqual([4, 5]);
    expect(second.next).toBeUndefined();
    // A peek is a read: the queue's counts are as before, and the first receive is a first attempt.
    expect(await client.getQueue('peeked')).toMatchObject({ ready: 5, inflight: 0 });
    const received = await test.request(follower, 'POST', '/queues/peeked/receive', { max: 1 });
    expect(received.body.messages).toMatchObject([{ body: { n: 1 }, attempt: 1 }]);
    expect((await client.peek('peeked', { state: 'inflight' })).messages).toMatchObject([{ body: { n: 1 }, state: 'inflight' }]);
  });

  it('refuses a bad state, limit or cursor with 400 and an unknown queue with 404', async () => {
    expect((await test.request(0, 'GET', '/queues/peeked/messages?state=gone')).body.error.code).toBe('BAD_REQUEST');
    expect((await test.request(0, 'GET', '/queues/peeked/messages?limit=1001')).status).toBe(400);
    expect((await test.request(0, 'GET', '/queues/peeked/messages?limit=0')).status).toBe(400);
    expect((await test.request(0, 'GET', '/queues/peeked/messages?after=..%2F')).status).toBe(400);
    expect((await test.request(0, 'GET', '/queues/nothing-here/messages')).status).toBe(404);
  });

  it('pauses a queue: enqueues go on, receives and subscriptions get nothing until it is resumed', async () => {
    const leader = await test.waitForLeader();
    const follower = (leader + 2) % 3;
    await client.enqueue('paused', { n: 0 });
    const delivered: unknown[] = [];
    const subscription = await client.subscribe(
      'paused',
      async (message) => {
        delivered.push(message.body);
        await client.ack('paused', { receipts: [message.receipt] });
      },
      { prefetch: 10 },
    );
    await waitFor(async () => (delivered.length === 1 ? true : undefined), 10_000, 'the first message delivered');
    expect((await test.request(follower, 'POST', '/queues/paused/pause')).body).toEqual({ paused: true });
    expect(await client.getQueue('paused')).toMatchObject({ paused: true });
    for (let n = 1; n <= 3; n++) await client.enqueue('paused', { n });
    // A long poll over the pause hears nothing, and neither does the subscription meanwhile.
    const polled = await test.request(leader, 'POST', '/queues/paused/receive', { waitMs: 1500 });
    expect(polled.body.messages).toEqual([]);
    expect(delivered).toEqual([{ n: 0 }]);
    expect(await client.getQueue('paused')).toMatchObject({ ready: 3, paused: true });
    expect(await client.resume('paused')).toEqual({ paused: false });
    await waitFor(async () => (delivered.length === 4 ? true : undefined), 15_000, 'the messages enqueued while paused, delivered after resume');
    expect(delivered).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    await subscription.close();
  });

  it('refuses to pause a queue that does not exist', async () => {
    const reply = await test.request(0, 'POST', '/queues/never-made/pause');
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('NOT_FOUND');
  });

  it('lists, reads, purges and deletes queues through the SDK', async () => {
    const { id } = await client.enqueue('sdk-admin', { n: 1 });
    expect((await client.listQueues()).queues.map((queue) => queue.name)).toContain('sdk-admin');
    expect(await client.getMessage('sdk-admin', id)).toMatchObject({ id, state: 'ready', attempt: 0 });
    expect(await client.purgeQueue('sdk-admin')).toEqual({ purged: 1 });
    expect(await client.getQueue('sdk-admin')).toMatchObject({ ready: 0 });
    expect(await client.deleteQueue('sdk-admin')).toEqual({ deleted: true });
    await expect(client.getQueue('sdk-admin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await client.deleteQueue('sdk-admin')).toEqual({ deleted: false });
  });
});
