import { describe, expect, it } from 'vitest';
import { message, Queue } from '../../support/queue-timeline.ts';

// Goal: an expired message always ends in the dead-letter queue with reason 'expired', never
// silently away, and never out from under a consumer that holds it.
describe('QueueStateMachine: message TTL', () => {
  it('moves a waiting message to the dead-letter queue at enqueuedAt + ttlMs, through the tick the leader proposes', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(100, message('stale', { ttlMs: 50 }));
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'ready', expiresAt: 150 });
    expect(queue.machine.nextDeadline()).toBe(150);
    queue.tick(149);
    expect(queue.counts()).toMatchObject({ ready: 1 });
    queue.tick(150);
    expect(queue.stats()).toMatchObject({ ready: 0, dead: 1 });
    expect(queue.receive(150, 1)).toEqual([]);
    const status = queue.status(ids[0]!);
    expect(status).toMatchObject({ state: 'dead', deadAt: 150, deadReason: 'expired', deadLetterQueue: 'q.dlq' });
    const [letter] = queue.sibling('q.dlq').receive(150, 1);
    expect(status).toMatchObject({ deadLetterId: letter?.id });
    expect(letter).toMatchObject({ body: 'stale', deadLetter: { queue: 'q', id: ids[0], reason: 'expired', attempts: 0, history: [] } });
  });

  it('never delivers an expired message, even when no tick came first', () => {
    const queue = new Queue();
    queue.enqueue(0, message('old', { ttlMs: 10 }), message('fresh'));
    expect(queue.bodies(10, 10)).toEqual(['fresh']);
    expect(queue.stats()).toMatchObject({ dead: 1 });
  });

  it('expires a delayed message whose delay outlasts its TTL without it ever joining the line', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('late', { delayMs: 500, ttlMs: 200 }));
    expect(queue.machine.nextDeadline()).toBe(200);
    queue.tick(200);
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'dead', deadReason: 'expired' });
    expect(queue.stats()).toMatchObject({ delayed: 0, ready: 0, dead: 1 });
  });

  it('leaves an expired message with its holder until the lease ends, then dead-letters it instead of returning it', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('slow', { ttlMs: 50 }));
    queue.receive(0, 1, 100);
    // While leased, the expiry is no deadline of its own: only the lease end is.
    expect(queue.machine.nextDeadline()).toBe(100);
    queue.tick(60);
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'inflight', expiresAt: 50 });
    queue.tick(100);
    expect(queue.status(ids[0]!)).toMatchObject({
      state: 'dead',
      deadReason: 'expired',
      history: [{ attempt: 1, deliveredAt: 0, outcome: 'leaseExpired', endedAt: 100 }],
    });
    expect(queue.stats()).toMatchObject({ ready: 0, inflight: 0, dead: 1 });
  });

  it('acks a message that expired while leased: the holder finished it', () => {
    const queue = new Queue();
    queue.enqueue(0, message('slow', { ttlMs: 50 }));
    const [delivered] = queue.receive(0, 1, 100);
    queue.tick(80);
    expect(queue.ack(90, { receipts: [delivered!.receipt] }, ['done'])).toEqual({ type: 'settled', count: 1, rejected: [] });
    expect(queue.status(delivered!.id)).toMatchObject({ state: 'acked', result: 'done' });
    expect(queue.stats()).toMatchObject({ acked: 1, dead: 0 });
    expect(queue.machine.stats('q.dlq')).toBeUndefined();
  });

  it('extends the lease of an expired message, and dead-letters it when nacked', () => {
    const queue = new Queue();
    queue.enqueue(0, message('slow', { ttlMs: 50 }));
    const [delivered] = queue.receive(0, 1, 100);
    expect(queue.extend(80, { receipts: [delivered!.receipt] }, 100).count).toBe(1);
    queue.tick(150);
    expect(queue.status(delivered!.id)).toMatchObject({ state: 'inflight', leaseDeadline: 180 });
    queue.nack(160, { receipts: [delivered!.receipt] }, 0, { error: 'gave up' });
    expect(queue.status(delivered!.id)).toMatchObject({
      state: 'dead',
      deadReason: 'expired',
      history: [{ attempt: 1, outcome: 'nacked', endedAt: 160, error: 'gave up' }],
    });
  });

  it('names expiry, not maxDeliveries, when a returning message has run out of both', () => {
    const queue = new Queue();
    queue.configure(0, { maxDeliveries: 1 });
    const { ids } = queue.enqueue(0, message('both', { ttlMs: 50 }));
    queue.receive(0, 1, 100);
    queue.tick(100);
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'dead', deadReason: 'expired' });
  });

  it("prefers a message's own ttlMs to the queue's messageTtlMs, where 0 means never", () => {
    const queue = new Queue();
    queue.configure(0, { messageTtlMs: 100 });
    const { ids } = queue.enqueue(10, message('queue ttl'), message('own ttl', { ttlMs: 300 }), message('never', { ttlMs: 0 }));
    expect(ids.map((id) => queue.status(id)?.expiresAt)).toEqual([110, 310, undefined]);
  });

  it("applies the queue's messageTtlMs to messages enqueued after it is set, not before", () => {
    const queue = new Queue();
    const before = queue.enqueue(0, message('before')).ids[0]!;
    queue.configure(10, { messageTtlMs: 100 });
    const after = queue.enqueue(20, message('after')).ids[0]!;
    expect(queue.status(before)?.expiresAt).toBeUndefined();
    expect(queue.status(after)?.expiresAt).toBe(120);
  });

  it("gives a dead letter its dead-letter queue's TTL, not its own: by default it never expires again", () => {
    const queue = new Queue();
    const deadLetters = queue.sibling('q.dlq');
    queue.enqueue(0, message('a', { ttlMs: 10 }));
    queue.tick(10);
    const [first] = deadLetters.receive(10, 1, 50);
    expect(deadLetters.status(first!.id)).toMatchObject({ state: 'inflight' });
    expect(deadLetters.status(first!.id)?.expiresAt).toBeUndefined();
    deadLetters.configure(20, { messageTtlMs: 100 });
    queue.enqueue(30, message('b', { ttlMs: 10 }));
    queue.tick(40);
    const [second] = deadLetters.receive(40, 5, 1000);
    expect(deadLetters.status(second!.id)?.expiresAt).toBe(140);
  });

  it('lets a dead-letter queue take in its own due delays before the dead letters that arrive', () => {
    // The dead-letter queue is brought up to the clock first: its delayed message joined the line
    // at t=50, the dead letter only arrives at t=200.
    const queue = new Queue();
    const deadLetters = queue.sibling('q.dlq');
    deadLetters.enqueue(0, message('waiting in dlq', { delayMs: 50 }));
    queue.enqueue(0, message('expires', { ttlMs: 100 }));
    queue.receive(200, 1);
    expect(deadLetters.bodies(200, 2)).toEqual(['waiting in dlq', 'expires']);
  });
});
