import { describe, expect, it } from 'vitest';
import { QUEUE_LIMITS } from '../../../src/queue/index.ts';
import { message, Queue } from '../../support/queue-timeline.ts';

// Goal: a message shows how each of its deliveries ended, boundedly, and takes that story with it
// into the dead-letter queue.
describe('QueueStateMachine: attempt history', () => {
  it('records how each delivery ended: lease expired, nacked with an error, acked', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('a'));
    queue.receive(10, 1, 40);
    const [second] = queue.receive(50, 1, 100);
    queue.nack(70, { receipts: [second!.receipt] }, 0, { error: 'db down' });
    const [third] = queue.receive(80, 1, 100);
    queue.ack(90, { receipts: [third!.receipt] });
    expect(queue.status(ids[0]!)?.history).toEqual([
      { attempt: 1, deliveredAt: 10, outcome: 'leaseExpired', endedAt: 50 },
      { attempt: 2, deliveredAt: 50, outcome: 'nacked', endedAt: 70, error: 'db down' },
      { attempt: 3, deliveredAt: 80, outcome: 'acked', endedAt: 90 },
    ]);
  });

  it(`keeps only the last ${QUEUE_LIMITS.attemptHistoryMax} attempts of a message retried forever`, () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('retried'));
    for (let attempt = 1; attempt <= 12; attempt++) {
      const [delivered] = queue.receive(attempt * 10, 1);
      queue.nack(attempt * 10 + 1, { receipts: [delivered!.receipt] }, 0, { error: `failure ${attempt}` });
    }
    const history = queue.status(ids[0]!)?.history ?? [];
    expect(history).toHaveLength(QUEUE_LIMITS.attemptHistoryMax);
    expect(history.map((attempt) => attempt.attempt)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(history.at(-1)).toMatchObject({ error: 'failure 12' });
  });

  it('cuts an error text at the limit rather than refusing an entry already in the log', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('a'));
    queue.receive(0, 1);
    queue.nack(1, { ids }, 0, { error: 'x'.repeat(QUEUE_LIMITS.errorLengthMax + 10) });
    expect(queue.status(ids[0]!)?.history[0]?.error).toHaveLength(QUEUE_LIMITS.errorLengthMax);
  });

  it('ends no delivery when a bare id acks a message nobody holds', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('a'));
    queue.ack(5, { ids });
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'acked', attempt: 0, history: [] });
  });

  it('carries the history into the dead-letter queue, where the message starts a history of its own', () => {
    const queue = new Queue();
    queue.configure(0, { maxDeliveries: 2 });
    const { ids } = queue.enqueue(0, message('poison'));
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [delivered] = queue.receive(attempt * 10, 1);
      queue.nack(attempt * 10 + 5, { receipts: [delivered!.receipt] }, 0, { error: `bad input ${attempt}` });
    }
    const deadLetters = queue.sibling('q.dlq');
    const [letter] = deadLetters.receive(30, 1);
    const expectedHistory = [
      { attempt: 1, deliveredAt: 10, outcome: 'nacked', endedAt: 15, error: 'bad input 1' },
      { attempt: 2, deliveredAt: 20, outcome: 'nacked', endedAt: 25, error: 'bad input 2' },
    ];
    expect(letter?.deadLetter).toEqual({ queue: 'q', id: ids[0], reason: 'maxDeliveries', attempts: 2, history: expectedHistory });
    expect(queue.status(ids[0]!)).toMatchObject({ state: 'dead', history: expectedHistory, deadLetterId: letter?.id });
    expect(deadLetters.status(letter!.id)).toMatchObject({ state: 'inflight', attempt: 1, history: [] });
  });
});
