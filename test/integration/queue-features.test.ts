import { beforeEach, describe, expect, it } from 'vitest';
import { clusterForSuite, type HttpReply, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: the queue semantics of the state machine hold end to end through HTTP on a real 3-node
// cluster: order, delays, TTL, backoff, fencing, dedup, batches, purge, delete, config and the
// status of a message from ready to acked or dead. Requests go to every node in turn, so most are
// forwarded to the leader. Waits are on conditions with deadlines, never on the clock.
describe('queue features through HTTP on a 3-node cluster', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  let turn = 0;
  beforeEach(() => {
    test = suite();
  });

  /** Sends to the next node in turn and insists on the expected status. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    expected = method === 'POST' && path.endsWith('/messages') ? 201 : 200,
  ): Promise<HttpReply> {
    const node = turn++ % test.cluster.nodes.length;
    const reply = await test.request(node, method, path, body);
    if (reply.status !== expected) throw new Error(`${method} ${path} via node ${node}: ${reply.status} ${JSON.stringify(reply.body)}, expected ${expected}`);
    return reply;
  }

  async function status(queue: string, id: string): Promise<any> {
    return (await call('GET', `/queues/${queue}/messages/${id}`)).body;
  }

  /** The next delivery from `queue`, waiting for one to become available. */
  async function nextDelivery(queue: string, options: { visibilityMs?: number } = {}): Promise<any> {
    return waitFor(
      async () => (await call('POST', `/queues/${queue}/receive`, { waitMs: 1000, ...options })).body.messages[0],
      15_000,
      `a delivery from ${queue}`,
    );
  }

  it('delivers higher priorities first, each level in commit order', async () => {
    const messages = [
      { body: 'low-1', priority: 1 },
      { body: 'high-1', priority: 9 },
      { body: 'mid', priority: 5 },
      { body: 'high-2', priority: 9 },
      { body: 'low-2', priority: 1 },
    ];
    await call('POST', '/queues/prio/messages', { messages });
    const received = await call('POST', '/queues/prio/receive', { max: 5 });
    expect(received.body.messages.map((message: any) => message.body)).toEqual(['high-1', 'high-2', 'mid', 'low-1', 'low-2']);
  });

  it('holds a delayMs message back, then delivers it', async () => {
    const { id } = (await call('POST', '/queues/later/messages', { body: 'later', delayMs: 1500 })).body;
    const held = await status('later', id);
    expect(held).toMatchObject({ state: 'delayed', attempt: 0 });
    expect(held.availableAt - held.enqueuedAt).toBe(1500);
    const delivered = await nextDelivery('later');
    expect(delivered).toMatchObject({ id, attempt: 1, body: 'later' });
  });

  it('moves a message nobody took within its ttlMs to the dead-letter queue, with reason expired', async () => {
    const { id } = (await call('POST', '/queues/fleeting/messages', { body: 'stale soon', ttlMs: 300 })).body;
    const letter = await nextDelivery('fleeting.dlq');
    expect(letter).toMatchObject({ body: 'stale soon', deadLetter: { queue: 'fleeting', id, reason: 'expired', attempts: 0, history: [] } });
    expect(await status('fleeting', id)).toMatchObject({ state: 'dead', deadReason: 'expired', deadLetterQueue: 'fleeting.dlq', deadLetterId: letter.id });
  });

  it('backs a nacked message off before it comes back, and records the error', async () => {
    await call('PUT', '/queues/flaky', { backoff: { baseMs: 1000, maxMs: 1000 } }, 201);
    const { id } = (await call('POST', '/queues/flaky/messages', { body: 'job' })).body;
    const first = await nextDelivery('flaky');
    await call('POST', '/queues/flaky/nack', { receipts: [first.receipt], error: 'upstream 502' });
    const waiting = await status('flaky', id);
    expect(waiting).toMatchObject({ state: 'delayed', history: [{ attempt: 1, outcome: 'nacked', error: 'upstream 502' }] });
    // Equal jitter: somewhere in [backoff/2, backoff] after the nack, never at once.
    const wait = waiting.availableAt - waiting.history[0].endedAt;
    expect(wait).toBeGreaterThanOrEqual(500);
    expect(wait).toBeLessThanOrEqual(1000);
    expect(await nextDelivery('flaky')).toMatchObject({ id, attempt: 2 });
  });

  it('refuses a late ack with LEASE_EXPIRED once the lease expired and the message went to someone else', async () => {
    await call('POST', '/queues/fenced/messages', { body: 'once' });
    const first = await nextDelivery('fenced', { visibilityMs: 300 });
    const second = await waitFor(
      async () => {
        const delivery = await nextDelivery('fenced');
        return delivery.attempt === 2 ? delivery : undefined;
      },
      15_000,
      'the redelivery after the lease expired',
    );
    const late = await call('POST', '/queues/fenced/ack', { receipts: [first.receipt] });
    expect(late.body).toEqual({ acked: 0, rejected: [{ id: first.id, code: 'LEASE_EXPIRED' }] });
    expect((await call('POST', '/queues/fenced/ack', { receipts: [second.receipt] })).body.acked).toBe(1);
  });

  it('enqueues a repeated dedupId once', async () => {
    const first = await call('POST', '/queues/dedup/messages', { body: 'a', dedupId: 'order-7' });
    const again = await call('POST', '/queues/dedup/messages', { body: 'a', dedupId: 'order-7' });
    expect(again.body).toEqual(first.body);
    expect((await call('GET', '/queues/dedup')).body).toMatchObject({ enqueued: 1, ready: 1 });
  });

  it('answers a retried producer request from its first application, and refuses a settled one', async () => {
    const stamp = { id: 'producer-1', seq: 0, settledBelow: 0 };
    const first = await call('POST', '/queues/producer/messages', { body: 'a', producer: stamp });
    const retry = await call('POST', '/queues/producer/messages', { body: 'a', producer: stamp });
    expect(retry.body).toEqual(first.body);
    await call('POST', '/queues/producer/messages', { body: 'b', producer: { ...stamp, seq: 1, settledBelow: 1 } });
    const late = await call('POST', '/queues/producer/messages', { body: 'a', producer: stamp }, 400);
    expect(late.body.error.code).toBe('BAD_REQUEST');
    expect((await call('GET', '/queues/producer')).body).toMatchObject({ enqueued: 2, ready: 2 });
  });

  it('enqueues a batch together and acks a batch with a result per receipt', async () => {
    const { ids } = (await call('POST', '/queues/batch/messages', { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] })).body;
    expect(ids).toHaveLength(3);
    const { messages } = (await call('POST', '/queues/batch/receive', { max: 3 })).body;
    expect(messages.map((message: any) => message.id)).toEqual(ids);
    const receipts = messages.map((message: any) => message.receipt);
    const acked = await call('POST', '/queues/batch/ack', { receipts, results: [{ sum: 1 }, { sum: 2 }, null] });
    expect(acked.body).toEqual({ acked: 3, rejected: [] });
    const results = await Promise.all(ids.map(async (id: string) => (await status('batch', id)).result));
    expect(results).toEqual([{ sum: 1 }, { sum: 2 }, null]);
    const misaligned = await call('POST', '/queues/batch/ack', { receipts, results: [1] }, 400);
    expect(misaligned.body.error.code).toBe('BAD_REQUEST');
  });

  it('purges every message, and deletes a queue', async () => {
    await call('POST', '/queues/doomed/messages', { messages: [{ body: 'a' }, { body: 'b', delayMs: 60_000 }, { body: 'c' }] });
    await call('POST', '/queues/doomed/receive', {});
    expect((await call('POST', '/queues/doomed/purge')).body).toEqual({ purged: 3 });
    expect((await call('GET', '/queues/doomed')).body).toMatchObject({ ready: 0, inflight: 0, delayed: 0, enqueued: 3 });
    expect((await call('DELETE', '/queues/doomed')).body).toEqual({ deleted: true });
    expect((await call('GET', '/queues/doomed', undefined, 404)).body.error.code).toBe('NOT_FOUND');
  });

  it('round-trips the whole config through PUT and GET, and merges a partial PUT', async () => {
    const config = {
      visibilityMs: 5000,
      maxDeliveries: 4,
      deadLetterQueue: 'configured.graveyard',
      backoff: { baseMs: 200, maxMs: 4000 },
      dedupWindowMs: 60_000,
      maxLength: 500,
      maxBytes: 1_000_000,
      messageTtlMs: 3_600_000,
      retentionMs: 600_000,
    };
    const created = await call('PUT', '/queues/configured', config, 201);
    expect(created.body).toMatchObject({ name: 'configured', created: true, ...config });
    const updated = await call('PUT', '/queues/configured', { retentionMs: 1000 });
    expect(updated.body).toMatchObject({ created: false, ...config, retentionMs: 1000 });
    expect((await call('GET', '/queues/configured')).body.config).toEqual({ ...config, retentionMs: 1000 });
  });

  it('reports a message as ready, then inflight, then acked with its result', async () => {
    const { id } = (await call('POST', '/queues/lifecycle/messages', { body: 'task' })).body;
    expect(await status('lifecycle', id)).toMatchObject({ id, state: 'ready', attempt: 0, history: [] });
    const delivery = await nextDelivery('lifecycle');
    const leased = await status('lifecycle', id);
    expect(leased).toMatchObject({ state: 'inflight', attempt: 1, receipt: delivery.receipt });
    expect(leased.leaseDeadline).toBeGreaterThan(leased.deliveredAt);
    await call('POST', '/queues/lifecycle/ack', { receipts: [delivery.receipt], results: [{ output: 'done' }] });
    const acked = await status('lifecycle', id);
    expect(acked).toMatchObject({ state: 'acked', attempt: 1, result: { output: 'done' }, history: [{ attempt: 1, outcome: 'acked' }] });
    expect(acked.ackedAt).toBeGreaterThanOrEqual(leased.deliveredAt);
    expect(acked).not.toHaveProperty('body');
  });

  it('reports a message that ran out of deliveries as dead, with where it went', async () => {
    await call('PUT', '/queues/doomed-job', { maxDeliveries: 1 }, 201);
    const { id } = (await call('POST', '/queues/doomed-job/messages', { body: 'poison' })).body;
    const delivery = await nextDelivery('doomed-job');
    await call('POST', '/queues/doomed-job/nack', { receipts: [delivery.receipt], error: 'cannot parse' });
    const dead = await status('doomed-job', id);
    expect(dead).toMatchObject({
      state: 'dead',
      deadReason: 'maxDeliveries',
      deadLetterQueue: 'doomed-job.dlq',
      history: [{ attempt: 1, outcome: 'nacked', error: 'cannot parse' }],
    });
    const moved = await status('doomed-job.dlq', dead.deadLetterId);
    expect(moved).toMatchObject({ state: 'ready', deadLetter: { queue: 'doomed-job', id, reason: 'maxDeliveries', history: dead.history } });
  });
});
