import { describe, expect, it } from 'vitest';
import { message, Queue } from '../../support/queue-timeline.ts';

describe('peek', () => {
  it('lists messages of one state in enqueue order with their bodies, and leases nothing', () => {
    const queue = new Queue();
    queue.enqueue(0, message('a'), message('b', { priority: 9 }), message('later', { delayMs: 1000 }), message('c'));
    const [leased] = queue.receive(10, 1); // 'b' by priority
    const before = queue.stats();
    const ready = queue.machine.peek('q', 'ready', 10, -1)!;
    expect(ready.messages.map((peeked) => peeked.body)).toEqual(['a', 'c']);
    expect(ready.next).toBeUndefined();
    expect(queue.machine.peek('q', 'inflight', 10, -1)!.messages).toMatchObject([{ id: leased!.id, body: 'b', state: 'inflight', attempt: 1 }]);
    expect(queue.machine.peek('q', 'delayed', 10, -1)!.messages).toMatchObject([{ body: 'later', state: 'delayed', availableAt: 1000 }]);
    expect(queue.machine.peek('q', 'waiting', 10, -1)!.messages.map((peeked) => peeked.body)).toEqual(['a', 'later', 'c']);
    // Nothing moved: same counts, and the next receive still gets 'a' at its first attempt.
    expect(queue.stats()).toEqual(before);
    expect(queue.receive(20, 1)).toMatchObject([{ body: 'a', attempt: 1 }]);
  });

  it('pages with next and after, and a page boundary holds when the message it names is gone', () => {
    const queue = new Queue();
    queue.enqueue(0, ...['m1', 'm2', 'm3', 'm4', 'm5'].map((body) => message(body)));
    const first = queue.machine.peek('q', 'ready', 2, -1)!;
    expect(first.messages.map((peeked) => peeked.body)).toEqual(['m1', 'm2']);
    expect(first.next).toBe(first.messages[1]!.id);
    queue.ack(1, { ids: [first.next!] });
    const second = queue.machine.peek('q', 'ready', 2, Number.parseInt(first.next!, 36))!;
    expect(second.messages.map((peeked) => peeked.body)).toEqual(['m3', 'm4']);
    const last = queue.machine.peek('q', 'ready', 2, Number.parseInt(second.next!, 36))!;
    expect(last.messages.map((peeked) => peeked.body)).toEqual(['m5']);
    expect(last.next).toBeUndefined();
  });

  it('lists remembered acked and dead messages without bodies, and dead letters with their origin', () => {
    const queue = new Queue();
    queue.configure(0, { maxDeliveries: 1 });
    const { ids } = queue.enqueue(0, message('ok'), message('poison'));
    queue.receive(1, 2);
    queue.ack(2, { ids: [ids[0]!] });
    queue.nack(3, { ids: [ids[1]!] }, 0);
    expect(queue.machine.peek('q', 'acked', 10, -1)!.messages).toEqual([expect.objectContaining({ id: ids[0], state: 'acked' })]);
    const dead = queue.machine.peek('q', 'dead', 10, -1)!.messages;
    expect(dead).toEqual([expect.objectContaining({ id: ids[1], state: 'dead' })]);
    expect(dead[0]).not.toHaveProperty('body');
    const letters = queue.machine.peek('q.dlq', 'ready', 10, -1)!.messages;
    expect(letters).toMatchObject([{ body: 'poison', deadLetter: { queue: 'q', id: ids[1], reason: 'maxDeliveries' } }]);
  });

  it('answers undefined for a queue that does not exist', () => {
    expect(new Queue().machine.peek('missing', 'ready', 10, -1)).toBeUndefined();
  });
});
