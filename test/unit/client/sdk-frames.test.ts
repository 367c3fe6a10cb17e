import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect, NACK_ERROR_LENGTH_MAX, type QuorumqClient } from '../../../src/client/index.ts';
import type { ClientFrame, DeliveredMessage } from '../../../src/shared/index.ts';
import { FakeNode } from './fake-node.ts';

// Goal: the frames the SDK sends for settles and subscriptions, checked against a stand-in node in
// this process: results travel with acks, reasons with nacks, and pushed deliveries nobody wants
// go back to the queue.
const message = (id: string): DeliveredMessage => ({ id, seq: 1, receipt: `${id}:1`, body: { id }, attempt: 1, priority: 0, enqueuedAt: 0 });

function answer(frame: ClientFrame): unknown {
  switch (frame.op) {
    case 'subscribe':
      return { subscription: 7 };
    case 'ack': {
      // A receipt of a message named `gone` stands for one whose lease went to someone else.
      const rejected = frame.receipts.filter((receipt) => receipt.startsWith('gone:')).map((receipt) => ({ id: receipt.split(':')[0], code: 'NOT_FOUND' }));
      return { acked: frame.receipts.length - rejected.length, rejected };
    }
    case 'enqueue':
      return { ids: frame.messages.map((_, index) => `m${index}`), seqs: frame.messages.map((_, index) => index + 1) };
    case 'nack':
      return { nacked: frame.receipts.length, rejected: [] };
    default:
      return {};
  }
}

describe('the SDK on the wire', () => {
  let node: FakeNode;
  let client: QuorumqClient;

  beforeEach(async () => {
    node = await FakeNode.start(answer);
    client = connect({ nodes: [node.address], retryForMs: 2000, requestTimeoutMs: 2000 });
  });

  afterEach(async () => {
    client.close();
    await node.stop();
  });

  it('shares one connection among calls made together, instead of opening one each', async () => {
    await Promise.all(Array.from({ length: 50 }, () => client.extend('jobs', { ids: ['a'] }, 1000)));
    expect(node.framesOf('extend')).toHaveLength(50);
    expect(node.connectionCount).toBe(1);
  });

  it('numbers its enqueue requests as an idempotent producer, settling below the oldest unfinished one', async () => {
    await client.enqueue('jobs', 'a');
    await Promise.all([client.enqueue('jobs', 'b'), client.enqueueBatch('jobs', [{ body: 'c' }])]);
    const stamps = node.framesOf('enqueue').map((frame) => frame.producer);
    expect(stamps.map((stamp) => stamp?.seq).sort()).toEqual([0, 1, 2]);
    expect(stamps[0]).toMatchObject({ seq: 0, settledBelow: 0 });
    expect(stamps.slice(1).every((stamp) => stamp?.settledBelow === 1)).toBe(true);
    expect(new Set(stamps.map((stamp) => stamp?.id)).size).toBe(1);
  });

  it('sends enqueues made in the same turn as one batch request, and gives each caller its own id', async () => {
    const placed = await Promise.all(['a', 'b', 'c'].map((body) => client.enqueue('jobs', body)));
    const frames = node.framesOf('enqueue');
    expect(frames).toHaveLength(1);
    expect(frames[0]!.messages.map((message) => message.body)).toEqual(['a', 'b', 'c']);
    expect(placed.map((answer) => answer.id)).toEqual(['m0', 'm1', 'm2']);
  });

  it('sends acks made in the same turn as one request, and gives each caller its own rejections', async () => {
    const [first, second] = await Promise.all([client.ack('jobs', { receipts: ['a:1'] }), client.ack('jobs', { receipts: ['gone:2'] })]);
    expect(node.framesOf('ack')).toHaveLength(1);
    expect(node.framesOf('ack')[0]).toMatchObject({ receipts: ['a:1', 'gone:2'] });
    expect(first).toEqual({ count: 1, rejected: [] });
    expect(second).toEqual({ count: 0, rejected: [{ id: 'gone', code: 'NOT_FOUND' }] });
  });

  it('sends results aligned with receipts on an ack', async () => {
    await client.ack('jobs', { receipts: ['a:1', 'b:1'] }, { results: [42, { done: true }] });
    expect(node.framesOf('ack')[0]).toMatchObject({ queue: 'jobs', receipts: ['a:1', 'b:1'], results: [42, { done: true }] });
  });

  it('sends null for a job that produced nothing, since results are JSON', async () => {
    await client.ack('jobs', { receipts: ['a:1', 'b:1'] }, { results: [undefined, 0] });
    expect(node.framesOf('ack')[0]!.results).toEqual([null, 0]);
  });

  it('refuses results that do not match the receipts one for one, without sending anything', async () => {
    await expect(client.ack('jobs', { receipts: ['a:1'] }, { results: [1, 2] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(node.framesOf('ack')).toHaveLength(0);
  });

  it('sends no results field on a plain ack', async () => {
    await client.ack('jobs', { receipts: ['a:1'] });
    expect(node.framesOf('ack')[0]).not.toHaveProperty('results');
  });

  it('cuts the error of a nack to its limit and sends no delay unless asked', async () => {
    await client.nack('jobs', { receipts: ['a:1'] }, { error: 'x'.repeat(5000) });
    const sent = node.framesOf('nack')[0]!;
    expect(sent.error).toHaveLength(NACK_ERROR_LENGTH_MAX);
    expect(sent).not.toHaveProperty('delayMs');
  });

  it('subscribes with the prefetch and visibility asked for, and hands pushed messages to the handler', async () => {
    const received: DeliveredMessage[] = [];
    await client.subscribe('jobs', (delivery) => void received.push(delivery), { prefetch: 4, visibilityMs: 5000 });
    expect(node.framesOf('subscribe')[0]).toMatchObject({ queue: 'jobs', prefetch: 4, visibilityMs: 5000 });
    node.push({ push: 'deliver', subscription: 7, queue: 'jobs', messages: [message('a'), message('b')] });
    await vi.waitFor(() => expect(received.map((delivery) => delivery.id)).toEqual(['a', 'b']));
  });

  it('refuses a prefetch out of bounds before sending anything', async () => {
    await expect(client.subscribe('jobs', () => undefined, { prefetch: 1001 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(node.framesOf('subscribe')).toHaveLength(0);
  });

  it('gives back deliveries for a subscription it does not know, and ends that subscription', async () => {
    await client.ack('jobs', { receipts: ['warm:1'] });
    node.push({ push: 'deliver', subscription: 99, queue: 'jobs', messages: [message('a')] });
    await vi.waitFor(() => expect(node.framesOf('nack')).toHaveLength(1));
    expect(node.framesOf('nack')[0]).toMatchObject({ queue: 'jobs', receipts: ['a:1'], delayMs: 0 });
    expect(node.framesOf('unsubscribe')[0]).toMatchObject({ subscription: 99 });
  });

  it('gives back deliveries that arrive after the subscription was closed', async () => {
    const handler = vi.fn();
    const subscription = await client.subscribe('jobs', handler, { prefetch: 1 });
    await subscription.close();
    expect(node.framesOf('unsubscribe')[0]).toMatchObject({ subscription: 7 });
    node.push({ push: 'deliver', subscription: 7, queue: 'jobs', messages: [message('late')] });
    await vi.waitFor(() => expect(node.framesOf('nack')[0]).toMatchObject({ receipts: ['late:1'], delayMs: 0 }));
    expect(handler).not.toHaveBeenCalled();
  });

  it('nacks, after the backoff, a message whose handler threw, and reports the error', async () => {
    const errors: Error[] = [];
    await client.subscribe(
      'jobs',
      () => {
        throw new Error('boom');
      },
      { prefetch: 1, onError: (error) => errors.push(error) },
    );
    node.push({ push: 'deliver', subscription: 7, queue: 'jobs', messages: [message('a')] });
    await vi.waitFor(() => expect(node.framesOf('nack')).toHaveLength(1));
    expect(node.framesOf('nack')[0]).toMatchObject({ receipts: ['a:1'], error: 'boom' });
    expect(node.framesOf('nack')[0]).not.toHaveProperty('delayMs');
    expect(errors.map((error) => error.message)).toEqual(['boom']);
  });

  it('subscribes again after its connection is lost', async () => {
    await client.subscribe('jobs', () => undefined, { prefetch: 2 });
    node.dropConnections();
    await vi.waitFor(() => expect(node.framesOf('subscribe')).toHaveLength(2), { timeout: 5000 });
    expect(node.framesOf('subscribe')[1]).toMatchObject({ queue: 'jobs', prefetch: 2 });
  });
});
