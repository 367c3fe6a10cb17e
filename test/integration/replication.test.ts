import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, waitFor } from './cluster-harness.ts';

// Goal: the queue behaves as one FIFO across nodes and survives kill -9 of the leader and a
// restart of the whole cluster without losing an acknowledged message.
describe('a 3-node cluster of real processes', () => {
  let test: TestCluster;

  beforeAll(async () => {
    test = await TestCluster.start(3);
    await test.waitForLeader();
  });

  afterAll(async () => {
    await test?.stop();
  });

  let sent = 0;
  async function enqueue(node: number, queue: string, body: unknown): Promise<string> {
    return (await test.enqueue(node, queue, body, `${queue}-${sent++}`)).id;
  }

  async function drain(node: number, queue: string, expected: number): Promise<unknown[]> {
    const bodies: unknown[] = [];
    await waitFor(
      async () => {
        const reply = await test.request(node, 'POST', `/queues/${queue}/receive`, { max: 100, waitMs: 500 });
        if (reply.status !== 200) return undefined;
        for (const message of reply.body.messages) {
          bodies.push(message.body);
          const ack = await test.request(node, 'POST', `/queues/${queue}/ack`, { receipts: [message.receipt] });
          if (ack.status !== 200 || ack.body.acked !== 1) return undefined;
        }
        return bodies.length >= expected ? true : undefined;
      },
      30_000,
      `${expected} messages from ${queue}`,
    );
    return bodies;
  }

  function followers(leader: number): number[] {
    return [0, 1, 2].filter((index) => index !== leader && test.cluster.nodes[index]!.process !== undefined);
  }

  it('delivers in FIFO order through one follower what was enqueued through another', async () => {
    const leader = await test.waitForLeader();
    const [producer, consumer] = followers(leader);
    for (let i = 0; i < 20; i++) await enqueue(producer!, 'fifo', { n: i });
    const bodies = await drain(consumer!, 'fifo', 20);
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i })));
  });

  it('makes a message deliverable again when its lease expires', async () => {
    await enqueue(0, 'lease', 'once');
    const first = await test.request(1, 'POST', '/queues/lease/receive', { visibilityMs: 300 });
    expect(first.body.messages).toHaveLength(1);
    const again = await waitFor(
      async () => {
        const reply = await test.request(2, 'POST', '/queues/lease/receive', { waitMs: 1000 });
        return reply.body.messages.length === 1 ? reply.body.messages[0] : undefined;
      },
      10_000,
      'redelivery after the lease expired',
    );
    expect(again.id).toBe(first.body.messages[0].id);
    expect(again.attempt).toBe(2);
    const late = await test.request(0, 'POST', '/queues/lease/ack', { receipts: [first.body.messages[0].receipt] });
    expect(late.body.rejected).toEqual([{ id: first.body.messages[0].id, code: 'LEASE_EXPIRED' }]);
  });

  it('keeps every acknowledged message through kill -9 of the leader, and the killed node catches up', async () => {
    const leader = await test.waitForLeader();
    const [survivor] = followers(leader);
    for (let i = 0; i < 30; i++) await enqueue(survivor!, 'failover', i);
    await test.cluster.kill(leader, 'SIGKILL');
    const newLeader = await test.waitForLeader();
    expect(newLeader).not.toBe(leader);
    for (let i = 30; i < 40; i++) await enqueue(newLeader, 'failover', i);
    test.cluster.start(leader);
    await waitFor(
      async () => {
        const reply = await test.request(leader, 'GET', '/queues/failover?stale=1');
        return reply.status === 200 && reply.body.enqueued === 40 ? true : undefined;
      },
      20_000,
      'the restarted node to catch up',
    );
    const bodies = await drain(survivor!, 'failover', 40);
    expect([...bodies].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('keeps every unacknowledged message through a restart of the whole cluster', async () => {
    for (let i = 0; i < 25; i++) await enqueue(i % 3, 'restart', `m${i}`);
    await test.cluster.stopAll('SIGKILL');
    test.cluster.startAll();
    await test.waitForLeader();
    const bodies = await drain(0, 'restart', 25);
    expect(bodies).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
  });
});
