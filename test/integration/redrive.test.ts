import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type QuorumqClient } from '../../src/client/index.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: dead letters go back where they came from, and a redrive cut short by the leader's death
// loses no message and moves none twice: every batch moves in one log entry, and asking again
// moves what is left.
describe('redrive on a real cluster', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  let client: QuorumqClient;
  beforeEach(() => {
    test = suite();
    client = connect({ nodes: test.cluster.nodes.map((node) => node.address), retryForMs: 30_000 });
  });
  afterEach(() => client.close());

  it('sends dead letters back to the queue they died in, as new messages', async () => {
    await test.request(0, 'PUT', '/queues/jobs', { maxDeliveries: 1 });
    for (let n = 0; n < 3; n++) await test.enqueue(0, 'jobs', { n }, `job-${n}`);
    const leased = await test.request(1, 'POST', '/queues/jobs/receive', { max: 3 });
    expect(leased.body.messages).toHaveLength(3);
    const receipts = leased.body.messages.map((message: { receipt: string }) => message.receipt);
    await test.request(1, 'POST', '/queues/jobs/nack', { receipts, delayMs: 0 });
    await waitFor(async () => ((await client.getQueue('jobs.dlq')).ready === 3 ? true : undefined), 10_000, 'three dead letters');
    const reply = await test.request(2, 'POST', '/queues/jobs.dlq/redrive', {});
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ moved: 3, remaining: 0 });
    expect(await client.getQueue('jobs')).toMatchObject({ ready: 3 });
    const again = await test.request(1, 'POST', '/queues/jobs/receive', { max: 3 });
    expect(again.body.messages.map((message: { body: { n: number } }) => message.body.n)).toEqual([0, 1, 2]);
    expect(again.body.messages[0]).toMatchObject({ attempt: 1 });
    expect((await test.request(0, 'POST', '/queues/jobs.dlq/redrive', { to: 'jobs.dlq' })).status).toBe(400);
    expect((await test.request(0, 'POST', '/queues/jobs.dlq/redrive', { max: 0 })).status).toBe(400);
    expect((await test.request(0, 'POST', '/queues/none-such/redrive', {})).status).toBe(404);
  });

  it('moves 10,000 messages exactly once although the leader is killed in the middle of the redrive', async () => {
    const total = 10_000;
    for (let batch = 0; batch < total / 1000; batch++) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({ body: { n: batch * 1000 + i } }));
      const reply = await test.request(0, 'POST', '/queues/parking/messages', { messages });
      expect(reply.status).toBe(201);
    }
    const leader = await test.waitForLeader();
    // 1,000 a second: the redrive takes about 10 s, and the leader dies about a second into it.
    const redriving = client.redrive('parking', { to: 'restored', ratePerSec: 1000 }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const movedBeforeKill = await waitFor(
      async () => {
        const ready = (await client.getQueue('restored').catch(() => undefined))?.ready ?? 0;
        return ready >= 1000 ? ready : undefined;
      },
      20_000,
      'a first part moved',
    );
    await test.cluster.kill(leader, 'SIGKILL');
    // The kill came in the middle: part moved, part still parked (the peek below proves the rest).
    expect(movedBeforeKill).toBeLessThan(total);
    // The SDK carries the interrupted call on through another node; it may also give up: either is fine.
    await redriving;
    // Whatever the interrupted call answered, asking again moves what is left, and only that.
    await waitFor(async () => ((await client.redrive('parking', { to: 'restored' })).remaining === 0 ? true : undefined), 60_000, 'the rest moved');
    expect(await client.getQueue('parking')).toMatchObject({ ready: 0, inflight: 0, delayed: 0 });
    expect(await client.getQueue('restored')).toMatchObject({ ready: total });
    const seen = new Set<number>();
    let after: string | undefined;
    for (;;) {
      const page = await client.peek('restored', { limit: 1000, ...(after === undefined ? {} : { after }) });
      for (const message of page.messages) seen.add((message.body as { n: number }).n);
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(seen.size).toBe(total);
  });
});
