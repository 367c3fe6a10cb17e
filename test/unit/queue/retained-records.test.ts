import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_LIMITS, QueueStateMachine, RETENTION_SWEEP_GRAIN_MS } from '../../../src/queue/index.ts';
import { message, Queue } from '../../support/queue-timeline.ts';

// Goal: acked and dead messages answer the status route for a bounded time and in bounded number,
// without their bodies, and are forgotten through the log clock.
describe('QueueStateMachine: remembered acked and dead messages', () => {
  it('answers an acked message with its result, without the body, until retentionMs has passed', () => {
    const queue = new Queue();
    queue.configure(0, { retentionMs: 1000 });
    const { ids } = queue.enqueue(0, message('work'));
    const [delivered] = queue.receive(10, 1);
    queue.ack(20, { receipts: [delivered!.receipt] }, [{ thumbnail: 'x.png' }]);
    expect(queue.status(ids[0]!)).toEqual({
      id: ids[0],
      seq: 1,
      state: 'acked',
      attempt: 1,
      priority: 0,
      enqueuedAt: 0,
      history: [{ attempt: 1, deliveredAt: 10, outcome: 'acked', endedAt: 20 }],
      ackedAt: 20,
      result: { thumbnail: 'x.png' },
    });
    queue.tick(1019);
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'acked' });
    // Forgotten by the log clock at once, whether or not a sweep has run.
    queue.machine.apply({ type: 'enqueue', ts: 1020, queue: 'other', messages: [message('x')] });
    expect(queue.status(ids[0]!)).toBeUndefined();
  });

  it('keeps each result with its own receipt, and none for a bare id', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('a'), message('b'), message('c'));
    const [a, b] = queue.receive(0, 2);
    queue.ack(5, { ids: [ids[2]!], receipts: [b!.receipt, a!.receipt] }, ['for b', null]);
    expect(queue.status(ids[1]!)).toMatchObject({ state: 'acked', result: 'for b' });
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'acked', result: null });
    expect(queue.status(ids[2]!)).not.toHaveProperty('result');
  });

  it('answers a dead message with where it went and its id there', () => {
    const queue = new Queue();
    queue.configure(0, { maxDeliveries: 1, deadLetterQueue: 'graveyard' });
    const { ids } = queue.enqueue(0, message('poison'));
    const [delivered] = queue.receive(0, 1, 100);
    queue.tick(100);
    const [letter] = queue.sibling('graveyard').receive(100, 1);
    expect(queue.status(ids[0]!)).toMatchObject({
      state: 'dead',
      deadAt: 100,
      deadReason: 'maxDeliveries',
      deadLetterQueue: 'graveyard',
      deadLetterId: letter!.id,
      attempt: 1,
    });
    expect(letter!.id).not.toBe(delivered!.id);
  });

  it('evicts the oldest record once a queue remembers its limit of records', () => {
    const queue = new Queue('q', { recordsMax: 3, bytesMax: 1000 });
    const { ids } = queue.enqueue(0, ...['a', 'b', 'c', 'd', 'e'].map((body) => message(body)));
    ids.forEach((id, index) => queue.ack(index, { ids: [id] }));
    expect(ids.map((id) => queue.status(id)?.state)).toEqual([undefined, undefined, 'acked', 'acked', 'acked']);
  });

  it('holds the default limit of records per queue', () => {
    const queue = new Queue();
    const perCommand = 1000;
    const total = DEFAULT_RETENTION_LIMITS.recordsMax + perCommand;
    const ids: string[] = [];
    for (let ts = 0; ids.length < total; ts++) {
      const batch = queue.enqueue(ts, ...Array.from({ length: perCommand }, () => message('m'))).ids;
      queue.ack(ts, { ids: batch });
      ids.push(...batch);
    }
    expect(queue.status(ids[perCommand - 1]!)).toBeUndefined();
    expect(queue.status(ids[perCommand]!)).toMatchObject({ state: 'acked' });
    expect(queue.status(ids.at(-1)!)).toMatchObject({ state: 'acked' });
  });

  it('evicts oldest first once results and errors pass the byte limit', () => {
    const queue = new Queue('q', { recordsMax: 100, bytesMax: 25 });
    const { ids } = queue.enqueue(0, message('a'), message('b'), message('c'));
    const delivered = queue.receive(0, 3);
    delivered.forEach((leased, index) => queue.ack(index + 1, { receipts: [leased.receipt] }, ['x'.repeat(8)]));
    // Each result is 10 JSON characters: two fit in 25, the third pushes the first out.
    expect(ids.map((id) => queue.status(id)?.state)).toEqual([undefined, 'acked', 'acked']);
  });

  it('forgets by the retention in force when each message was settled: soonest first', () => {
    const queue = new Queue('q', { recordsMax: 2, bytesMax: 1000 });
    queue.configure(0, { retentionMs: 1000 });
    const { ids } = queue.enqueue(0, message('long'), message('short'), message('third'));
    queue.ack(10, { ids: [ids[0]!] });
    queue.configure(20, { retentionMs: 100 });
    queue.ack(30, { ids: [ids[1]!] });
    queue.ack(40, { ids: [ids[2]!] });
    // 'short' (forget at 130) goes before 'long' (1010) although it was acked later.
    expect(ids.map((id) => queue.status(id)?.state)).toEqual(['acked', undefined, 'acked']);
  });

  it('remembers nothing with retentionMs 0', () => {
    const queue = new Queue();
    queue.configure(0, { retentionMs: 0 });
    const { ids } = queue.enqueue(0, message('a'));
    queue.ack(1, { ids });
    expect(queue.status(ids[0]!)).toBeUndefined();
    expect(queue.machine.nextDeadline()).toBeUndefined();
  });

  it('asks for a sweep on the whole second after the last record is due, so acks share ticks', () => {
    const queue = new Queue();
    queue.configure(0, { retentionMs: 300 });
    const { ids } = queue.enqueue(0, message('a'), message('b'));
    queue.ack(100, { ids: [ids[0]!] });
    queue.ack(200, { ids: [ids[1]!] });
    expect(queue.machine.nextDeadline()).toBe(RETENTION_SWEEP_GRAIN_MS);
    queue.tick(RETENTION_SWEEP_GRAIN_MS);
    expect(queue.machine.nextDeadline()).toBeUndefined();
  });

  it('keeps records through a purge, and forgets them with the queue on delete', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('acked'), message('purged'));
    queue.ack(1, { ids: [ids[0]!] });
    queue.machine.apply({ type: 'purge', ts: 2, queue: 'q' });
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'acked' });
    expect(queue.status(ids[1]!)).toBeUndefined();
    queue.machine.apply({ type: 'delete', ts: 3, queue: 'q' });
    expect(queue.status(ids[0]!)).toBeUndefined();
  });

  it('keeps records and their deadlines through a snapshot', () => {
    const queue = new Queue();
    queue.configure(0, { retentionMs: 5000, maxDeliveries: 1 });
    const { ids } = queue.enqueue(0, message('acked'), message('dead'));
    const [first, second] = queue.receive(0, 2, 100);
    queue.ack(10, { receipts: [first!.receipt] }, [42]);
    queue.nack(20, { receipts: [second!.receipt] }, 0, { error: 'no' });
    const restored = new QueueStateMachine();
    restored.restore(queue.machine.snapshot());
    for (const id of ids) expect(restored.messageStatus('q', id)).toEqual(queue.status(id));
    expect(restored.nextDeadline()).toBe(queue.machine.nextDeadline());
  });
});
