import { describe, expect, it } from 'vitest';
import { nackBackoffMs, QueueStateMachine } from '../../../src/queue/index.ts';
import { expectType, message, Queue } from '../../support/queue-timeline.ts';

describe('QueueStateMachine', () => {
  describe('order', () => {
    it('delivers messages of one priority in commit order, across batches', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'), message('b'));
      queue.enqueue(1, message('c'));
      expect(queue.bodies(2, 2)).toEqual(['a', 'b']);
      expect(queue.bodies(3, 10)).toEqual(['c']);
      expect(queue.bodies(4, 10)).toEqual([]);
    });

    it('delivers higher priorities first, each level in commit order', () => {
      const queue = new Queue();
      queue.enqueue(0, message('low-1', { priority: 1 }), message('high-1', { priority: 9 }));
      queue.enqueue(1, message('mid', { priority: 5 }), message('high-2', { priority: 9 }), message('low-2', { priority: 1 }));
      expect(queue.bodies(2, 10)).toEqual(['high-1', 'high-2', 'mid', 'low-1', 'low-2']);
    });

    it('reports each delivery with its id, seq, receipt, attempt, priority and enqueue time', () => {
      const queue = new Queue();
      const { ids, seqs } = queue.enqueue(100, message('a', { priority: 3 }));
      const [delivered] = queue.receive(200, 1);
      expect(delivered).toEqual({ id: ids[0], seq: seqs[0], receipt: `${ids[0]}:1`, body: 'a', attempt: 1, priority: 3, enqueuedAt: 100 });
    });

    it('gives each queue its own seq numbering but never reuses an id across queues', () => {
      const first = new Queue('a');
      const enqueuedA = first.enqueue(0, message('x'), message('y'));
      const enqueuedB = expectType(first.machine.apply({ type: 'enqueue', ts: 0, queue: 'b', messages: [message('z')] }), 'enqueued');
      expect(enqueuedA.seqs).toEqual([1, 2]);
      expect(enqueuedB.seqs).toEqual([1]);
      expect(new Set([...enqueuedA.ids, ...enqueuedB.ids]).size).toBe(3);
    });
  });

  describe('delays', () => {
    it('holds a delayed message back until its delay ends', () => {
      const queue = new Queue();
      const { ids } = queue.enqueue(1000, message('later', { delayMs: 500 }));
      expect(queue.counts()).toMatchObject({ ready: 0, delayed: 1 });
      expect(queue.receive(1499, 10)).toEqual([]);
      expect(queue.status(ids[0]!)).toMatchObject({ state: 'delayed', availableAt: 1500 });
      expect(queue.bodies(1500, 10)).toEqual(['later']);
    });

    it('puts a delayed message behind those already in line when its delay ends', () => {
      // DESIGN "Order": delayed messages join the line when their delay ends. 'early' has been
      // waiting since t=500, 'delayed' only joins at t=1000, so 'early' is served first.
      const queue = new Queue();
      queue.enqueue(0, message('delayed', { delayMs: 1000 }));
      queue.enqueue(500, message('early'));
      expect(queue.bodies(2000, 1)).toEqual(['early']);
    });

    it('still places a delayed message ahead of messages enqueued after its delay ended', () => {
      const queue = new Queue();
      queue.enqueue(0, message('delayed', { delayMs: 1000 }));
      queue.enqueue(1500, message('after'));
      expect(queue.bodies(2000, 10)).toEqual(['delayed', 'after']);
    });
  });

  describe('leases', () => {
    it('leases at most max messages, for the queue visibility when the request names none', () => {
      const queue = new Queue();
      queue.configure(0, { visibilityMs: 700 });
      queue.enqueue(0, message('a'), message('b'), message('c'));
      const delivered = queue.receive(100, 2);
      expect(delivered.map((entry) => entry.body)).toEqual(['a', 'b']);
      expect(queue.status(delivered[0]!.id)).toMatchObject({ state: 'inflight', leaseDeadline: 800, receipt: `${delivered[0]!.id}:1` });
      expect(queue.counts()).toMatchObject({ ready: 1, inflight: 2 });
    });

    it('returns an expired lease to its original place, not the tail', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'), message('b'));
      queue.receive(0, 1, 100);
      queue.enqueue(50, message('c'));
      queue.tick(99);
      expect(queue.counts()).toMatchObject({ ready: 2, inflight: 1 });
      queue.tick(100);
      expect(queue.counts()).toMatchObject({ ready: 3, inflight: 0 });
      const again = queue.receive(200, 10);
      expect(again.map((entry) => [entry.body, entry.attempt])).toEqual([
        ['a', 2],
        ['b', 1],
        ['c', 1],
      ]);
    });

    it('expires a lease on the next command for its queue, even without a tick', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      queue.receive(0, 1, 100);
      expect(queue.bodies(100, 1)).toEqual(['a']);
    });

    it('applies a tick to every queue', () => {
      const machine = new QueueStateMachine();
      for (const name of ['a', 'b']) {
        machine.apply({ type: 'enqueue', ts: 0, queue: name, messages: [message(name)] });
        machine.apply({ type: 'receive', ts: 0, queue: name, max: 1, visibilityMs: 100 });
      }
      machine.apply({ type: 'tick', ts: 100 });
      expect(machine.stats('a')).toMatchObject({ ready: 1, inflight: 0 });
      expect(machine.stats('b')).toMatchObject({ ready: 1, inflight: 0 });
    });
  });

  describe('ack', () => {
    it('acks with the receipt of the current lease', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 100);
      expect(queue.ack(50, { receipts: [delivered!.receipt] })).toEqual({ type: 'settled', count: 1, rejected: [] });
      expect(queue.counts()).toEqual({ ready: 0, inflight: 0, delayed: 0, enqueued: 1, acked: 1 });
      expect(queue.status(delivered!.id)).toMatchObject({ state: 'acked', ackedAt: 50, attempt: 1 });
    });

    it('fences a receipt: after its lease expired and the message was redelivered, it is LEASE_EXPIRED', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [first] = queue.receive(0, 1, 100);
      const [second] = queue.receive(150, 1, 100);
      expect(second!.receipt).not.toBe(first!.receipt);
      expect(queue.ack(160, { receipts: [first!.receipt] })).toEqual({
        type: 'settled',
        count: 0,
        rejected: [{ id: first!.id, code: 'LEASE_EXPIRED' }],
      });
      expect(queue.status(first!.id)).toMatchObject({ state: 'inflight', attempt: 2 });
      expect(queue.ack(170, { receipts: [second!.receipt] }).count).toBe(1);
    });

    it('rejects a receipt as LEASE_EXPIRED once its lease ran out, even before anyone took the message again', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 100);
      expect(queue.ack(100, { receipts: [delivered!.receipt] }).rejected).toEqual([{ id: delivered!.id, code: 'LEASE_EXPIRED' }]);
      expect(queue.counts()).toMatchObject({ ready: 1, acked: 0 });
    });

    it('acks by bare id whoever holds the lease', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [first] = queue.receive(0, 1, 100);
      queue.receive(150, 1, 100);
      expect(queue.ack(160, { ids: [first!.id] })).toEqual({ type: 'settled', count: 1, rejected: [] });
      expect(queue.counts()).toMatchObject({ inflight: 0, acked: 1 });
    });

    it('rejects unknown and already-acked ids with NOT_FOUND while settling the rest', () => {
      const queue = new Queue();
      const { ids } = queue.enqueue(0, message('a'), message('b'));
      const [a, b] = [ids[0]!, ids[1]!];
      queue.receive(0, 2);
      expect(queue.ack(1, { ids: [a, 'nope'] })).toEqual({ type: 'settled', count: 1, rejected: [{ id: 'nope', code: 'NOT_FOUND' }] });
      expect(queue.ack(2, { ids: [a], receipts: [`${b}:1`, `${a}:1`] })).toEqual({
        type: 'settled',
        count: 1,
        rejected: [
          { id: a, code: 'NOT_FOUND' },
          { id: a, code: 'NOT_FOUND' },
        ],
      });
    });

    it('rejects everything on a queue that does not exist, without creating it', () => {
      const machine = new QueueStateMachine();
      const result = machine.apply({ type: 'ack', ts: 0, queue: 'ghost', ids: ['1'], receipts: [] });
      expect(result).toEqual({ type: 'settled', count: 0, rejected: [{ id: '1', code: 'NOT_FOUND' }] });
      expect(machine.apply({ type: 'receive', ts: 0, queue: 'ghost', max: 5, visibilityMs: undefined })).toEqual({ type: 'received', messages: [] });
      expect(machine.stats('ghost')).toBeUndefined();
    });

    it('names a rejected receipt by its message id whether or not the queue exists', () => {
      // Clients match `rejected[].id` against what they hold; the same receipt must be named the
      // same way in both cases (on an existing queue it is named by the id part).
      const machine = new QueueStateMachine();
      machine.apply({ type: 'enqueue', ts: 0, queue: 'exists', messages: [message('a')] });
      const onExisting = expectType(machine.apply({ type: 'ack', ts: 0, queue: 'exists', ids: [], receipts: ['zz:1'] }), 'settled');
      const onMissing = expectType(machine.apply({ type: 'ack', ts: 0, queue: 'ghost', ids: [], receipts: ['zz:1'] }), 'settled');
      expect(onExisting.rejected).toEqual([{ id: 'zz', code: 'NOT_FOUND' }]);
      expect(onMissing.rejected).toEqual(onExisting.rejected);
    });
  });

  describe('nack', () => {
    it('returns the message to its original place at once with delayMs 0', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'), message('b'), message('c'));
      const [a] = queue.receive(0, 1);
      expect(queue.nack(10, { receipts: [a!.receipt] }, 0)).toEqual({ type: 'settled', count: 1, rejected: [] });
      expect(queue.bodies(10, 10)).toEqual(['a', 'b', 'c']);
    });

    it('returns the message to its original place after the given delay', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'), message('b'));
      const [a] = queue.receive(0, 1);
      queue.nack(10, { ids: [a!.id] }, 50);
      expect(queue.counts()).toMatchObject({ ready: 1, inflight: 0, delayed: 1 });
      expect(queue.status(a!.id)).toMatchObject({ state: 'delayed', availableAt: 60 });
      queue.enqueue(20, message('c'));
      queue.tick(60);
      expect(queue.bodies(60, 10)).toEqual(['a', 'b', 'c']);
    });

    it('waits the queue backoff without a delay: baseMs doubling per attempt, capped at maxMs, jittered into its upper half', () => {
      const queue = new Queue();
      const backoff = { baseMs: 100, maxMs: 250 };
      queue.configure(0, { backoff });
      const { ids } = queue.enqueue(0, message('a'));
      const id = ids[0]!;
      const waits: number[] = [];
      let now = 0;
      for (let attempt = 1; attempt <= 3; attempt++) {
        expect(queue.receive(now, 1)[0]?.attempt).toBe(attempt);
        queue.nack(now, { ids: [id] }, undefined, { seed: 1000 + attempt });
        const status = queue.status(id);
        if (status?.state !== 'delayed') throw new Error(`expected a delayed message, got ${JSON.stringify(status)}`);
        waits.push(status.availableAt - now);
        expect(status.availableAt - now).toBe(nackBackoffMs(backoff, attempt, 1000 + attempt, id));
        now = status.availableAt;
      }
      const full = [100, 200, 250];
      waits.forEach((wait, index) => {
        expect(wait).toBeGreaterThanOrEqual(full[index]! / 2);
        expect(wait).toBeLessThanOrEqual(full[index]!);
      });
    });

    it('refuses a bare-id nack of a message nobody holds with NOT_INFLIGHT', () => {
      const queue = new Queue();
      const { ids } = queue.enqueue(0, message('a'));
      expect(queue.nack(0, { ids: [ids[0]!] }, 0).rejected).toEqual([{ id: ids[0], code: 'NOT_INFLIGHT' }]);
      expect(queue.counts()).toMatchObject({ ready: 1, inflight: 0 });
    });

    it('fences a nack receipt like an ack receipt', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [first] = queue.receive(0, 1, 100);
      queue.receive(100, 1, 100);
      expect(queue.nack(110, { receipts: [first!.receipt] }, 0).rejected).toEqual([{ id: first!.id, code: 'LEASE_EXPIRED' }]);
      expect(queue.counts()).toMatchObject({ inflight: 1, ready: 0 });
    });
  });

  describe('extend', () => {
    it('moves the lease deadline so the lease outlives its first deadline', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 100);
      expect(queue.extend(50, { receipts: [delivered!.receipt] }, 200)).toEqual({ type: 'settled', count: 1, rejected: [] });
      expect(queue.status(delivered!.id)).toMatchObject({ state: 'inflight', leaseDeadline: 250 });
      queue.tick(100);
      expect(queue.counts()).toMatchObject({ inflight: 1, ready: 0 });
      expect(queue.ack(249, { receipts: [delivered!.receipt] }).count).toBe(1);
    });

    it('can shorten a lease as well', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 1000);
      queue.extend(10, { ids: [delivered!.id] }, 20);
      queue.tick(30);
      expect(queue.counts()).toMatchObject({ inflight: 0, ready: 1 });
    });

    it('refuses to extend an expired receipt or a message nobody holds', () => {
      const queue = new Queue();
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 100);
      expect(queue.extend(100, { receipts: [delivered!.receipt], ids: [delivered!.id] }, 500).rejected).toEqual([
        { id: delivered!.id, code: 'NOT_INFLIGHT' },
        { id: delivered!.id, code: 'LEASE_EXPIRED' },
      ]);
      expect(queue.counts()).toMatchObject({ inflight: 0, ready: 1 });
    });
  });

  describe('dedup', () => {
    it('returns the first {id, seq} for a dedupId repeated within the window, and enqueues nothing', () => {
      const queue = new Queue();
      queue.configure(0, { dedupWindowMs: 1000 });
      const first = queue.enqueue(0, message('a', { dedupId: 'k' }));
      const again = queue.enqueue(999, message('b', { dedupId: 'k' }), message('c', { dedupId: 'k' }));
      expect(again.ids).toEqual([first.ids[0], first.ids[0]]);
      expect(again.seqs).toEqual([first.seqs[0], first.seqs[0]]);
      expect(queue.counts()).toMatchObject({ ready: 1, enqueued: 1 });
      expect(queue.bodies(999, 10)).toEqual(['a']);
    });

    it('still deduplicates within the window after the first message was acked', () => {
      const queue = new Queue();
      queue.configure(0, { dedupWindowMs: 1000 });
      const first = queue.enqueue(0, message('a', { dedupId: 'k' }));
      queue.ack(1, { ids: first.ids });
      expect(queue.enqueue(2, message('a', { dedupId: 'k' })).ids).toEqual(first.ids);
      expect(queue.counts()).toMatchObject({ ready: 0, enqueued: 1, acked: 1 });
    });

    it('enqueues anew once the window has passed', () => {
      const queue = new Queue();
      queue.configure(0, { dedupWindowMs: 1000 });
      const first = queue.enqueue(0, message('a', { dedupId: 'k' }));
      const later = queue.enqueue(1000, message('b', { dedupId: 'k' }));
      expect(later.ids[0]).not.toBe(first.ids[0]);
      expect(later.seqs).toEqual([2]);
      expect(queue.counts()).toMatchObject({ ready: 2, enqueued: 2 });
    });

    it('keeps dedup ids apart per queue', () => {
      const machine = new QueueStateMachine();
      const a = expectType(machine.apply({ type: 'enqueue', ts: 0, queue: 'a', messages: [message('x', { dedupId: 'k' })] }), 'enqueued');
      const b = expectType(machine.apply({ type: 'enqueue', ts: 0, queue: 'b', messages: [message('x', { dedupId: 'k' })] }), 'enqueued');
      expect(b.ids[0]).not.toBe(a.ids[0]);
    });
  });

  describe('limits', () => {
    it('refuses a whole batch with QUEUE_FULL when it would pass maxLength', () => {
      const queue = new Queue();
      queue.configure(0, { maxLength: 2 });
      queue.enqueue(0, message('a'));
      const refused = queue.machine.apply({ type: 'enqueue', ts: 1, queue: 'q', messages: [message('b'), message('c')] });
      expect(refused).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
      expect(queue.stats()).toMatchObject({ ready: 1, enqueued: 1, bytes: 1 });
      expect(queue.enqueue(2, message('b')).seqs).toEqual([2]);
    });

    it('counts leased and delayed messages against maxLength until they are acked', () => {
      const queue = new Queue();
      queue.configure(0, { maxLength: 2 });
      const { ids } = queue.enqueue(0, message('a'), message('b', { delayMs: 100 }));
      queue.receive(0, 1);
      expect(queue.machine.apply({ type: 'enqueue', ts: 1, queue: 'q', messages: [message('c')] })).toMatchObject({ code: 'QUEUE_FULL' });
      queue.ack(2, { ids: [ids[0]!] });
      expect(queue.enqueue(3, message('c')).ids).toHaveLength(1);
    });

    it('refuses a whole batch with QUEUE_FULL when it would pass maxBytes', () => {
      const queue = new Queue();
      queue.configure(0, { maxBytes: 10 });
      queue.enqueue(0, message('a', { bytes: 6 }));
      const refused = queue.machine.apply({ type: 'enqueue', ts: 1, queue: 'q', messages: [message('b', { bytes: 3 }), message('c', { bytes: 2 })] });
      expect(refused).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
      expect(queue.stats()).toMatchObject({ ready: 1, enqueued: 1, bytes: 6 });
      queue.enqueue(2, message('b', { bytes: 4 }));
      expect(queue.stats().bytes).toBe(10);
    });

    it('does not count a duplicate within the window against the limits', () => {
      const queue = new Queue();
      queue.configure(0, { maxLength: 2 });
      const first = queue.enqueue(0, message('a', { dedupId: 'k' }));
      const batch = queue.enqueue(1, message('a', { dedupId: 'k' }), message('b'));
      expect(batch.ids[0]).toBe(first.ids[0]);
      expect(queue.counts()).toMatchObject({ ready: 2, enqueued: 2 });
    });

    it('counts a dedupId repeated inside one batch once against maxLength', () => {
      // The batch adds a single message (the second entry is a duplicate of the first), so it fits.
      const queue = new Queue();
      queue.configure(0, { maxLength: 1 });
      const result = queue.machine.apply({ type: 'enqueue', ts: 0, queue: 'q', messages: [message('a', { dedupId: 'k' }), message('a', { dedupId: 'k' })] });
      expect(result).toMatchObject({ type: 'enqueued', seqs: [1, 1] });
    });
  });

  describe('purge and delete', () => {
    it('purges every message in every state and keeps the lifetime counters', () => {
      const queue = new Queue();
      queue.enqueue(0, message('ready'), message('leased'), message('delayed', { delayMs: 500 }));
      const [leased] = queue.receive(0, 1, 100);
      expect(queue.machine.apply({ type: 'purge', ts: 10, queue: 'q' })).toEqual({ type: 'purged', purged: 3 });
      expect(queue.stats()).toMatchObject({ ready: 0, inflight: 0, delayed: 0, bytes: 0, enqueued: 3, acked: 0 });
      expect(queue.machine.nextDeadline()).toBeUndefined();
      queue.tick(1000);
      expect(queue.receive(1000, 10)).toEqual([]);
      expect(queue.ack(1000, { receipts: [leased!.receipt] }).rejected).toEqual([{ id: leased!.id, code: 'NOT_FOUND' }]);
    });

    it('purges nothing from a queue that does not exist', () => {
      const machine = new QueueStateMachine();
      expect(machine.apply({ type: 'purge', ts: 0, queue: 'ghost' })).toEqual({ type: 'purged', purged: 0 });
      expect(machine.stats('ghost')).toBeUndefined();
    });

    it('deletes a queue with its messages and config; a later enqueue starts it afresh', () => {
      const queue = new Queue();
      queue.configure(0, { maxLength: 5 });
      const before = queue.enqueue(0, message('a'), message('b'));
      expect(queue.machine.apply({ type: 'delete', ts: 1, queue: 'q' })).toEqual({ type: 'deleted', existed: true });
      expect(queue.machine.stats('q')).toBeUndefined();
      expect(queue.machine.apply({ type: 'delete', ts: 2, queue: 'q' })).toEqual({ type: 'deleted', existed: false });
      const after = queue.enqueue(3, message('c'));
      expect(after.seqs).toEqual([1]);
      expect(before.ids).not.toContain(after.ids[0]);
      expect(queue.stats()).toMatchObject({ ready: 1, enqueued: 1 });
      expect(queue.stats().config.maxLength).not.toBe(5);
      expect(queue.bodies(4, 10)).toEqual(['c']);
    });
  });

  describe('time', () => {
    it('never moves the clock backwards when a command carries a smaller ts', () => {
      const queue = new Queue();
      queue.tick(1000);
      const { ids } = queue.enqueue(500, message('a'));
      expect(queue.machine.clock).toBe(1000);
      expect(queue.status(ids[0]!)).toMatchObject({ enqueuedAt: 1000 });
      queue.receive(400, 1, 100);
      expect(queue.status(ids[0]!)).toMatchObject({ leaseDeadline: 1100 });
      queue.tick(1050);
      queue.tick(900);
      expect(queue.counts()).toMatchObject({ inflight: 1 });
    });

    it('reports the earliest lease or delay across all queues as nextDeadline', () => {
      const machine = new QueueStateMachine();
      expect(machine.nextDeadline()).toBeUndefined();
      machine.apply({ type: 'enqueue', ts: 0, queue: 'a', messages: [message('x', { delayMs: 500 })] });
      expect(machine.nextDeadline()).toBe(500);
      machine.apply({ type: 'enqueue', ts: 0, queue: 'b', messages: [message('y')] });
      machine.apply({ type: 'receive', ts: 0, queue: 'b', max: 1, visibilityMs: 200 });
      expect(machine.nextDeadline()).toBe(200);
      machine.apply({ type: 'tick', ts: 200 });
      expect(machine.nextDeadline()).toBe(500);
      machine.apply({ type: 'tick', ts: 500 });
      expect(machine.nextDeadline()).toBeUndefined();
    });

    it('forgets a lease in nextDeadline once its message is acked', () => {
      // The leader proposes a tick at nextDeadline; a stale deadline costs a useless log entry.
      const queue = new Queue();
      queue.configure(0, { retentionMs: 0 });
      queue.enqueue(0, message('a'));
      const [delivered] = queue.receive(0, 1, 100);
      queue.ack(10, { receipts: [delivered!.receipt] });
      expect(queue.machine.nextDeadline()).toBeUndefined();
    });
  });

  describe('messageStatus', () => {
    it('describes a message as ready, delayed or inflight with the fields of that state', () => {
      const queue = new Queue();
      const { ids, seqs } = queue.enqueue(10, message('a', { priority: 2 }), message('b', { delayMs: 90 }));
      const [a, b] = [ids[0]!, ids[1]!];
      expect(queue.status(a)).toEqual({ id: a, seq: seqs[0], state: 'ready', attempt: 0, priority: 2, enqueuedAt: 10, history: [] });
      expect(queue.status(b)).toEqual({ id: b, seq: seqs[1], state: 'delayed', attempt: 0, priority: 0, enqueuedAt: 10, history: [], availableAt: 100 });
      queue.receive(20, 1, 50);
      expect(queue.status(a)).toEqual({
        id: a,
        seq: seqs[0],
        state: 'inflight',
        attempt: 1,
        priority: 2,
        enqueuedAt: 10,
        history: [],
        leaseDeadline: 70,
        receipt: `${a}:1`,
        deliveredAt: 20,
      });
    });

    it('knows nothing of purged or unknown messages, or of unknown queues', () => {
      const queue = new Queue();
      const { ids } = queue.enqueue(0, message('a'));
      queue.machine.apply({ type: 'purge', ts: 1, queue: 'q' });
      expect(queue.status(ids[0]!)).toBeUndefined();
      expect(queue.status('nope')).toBeUndefined();
      expect(queue.machine.messageStatus('ghost', ids[0]!)).toBeUndefined();
    });
  });

  describe('stats', () => {
    it('keeps ready, inflight, delayed, enqueued and acked consistent through a whole lifecycle', () => {
      const queue = new Queue();
      // Every live message is in exactly one of ready/inflight/delayed; none is lost or counted twice.
      const expectConsistent = (purged: number) => {
        const stats = queue.stats();
        expect(stats.ready + stats.inflight + stats.delayed).toBe(stats.enqueued - stats.acked - purged);
      };
      const { ids } = queue.enqueue(0, message('a'), message('b'), message('c', { delayMs: 100 }), message('d'));
      expect(queue.counts()).toEqual({ ready: 3, inflight: 0, delayed: 1, enqueued: 4, acked: 0 });
      const [a, b] = queue.receive(10, 2, 50);
      expect(queue.counts()).toEqual({ ready: 1, inflight: 2, delayed: 1, enqueued: 4, acked: 0 });
      queue.ack(20, { receipts: [a!.receipt] });
      queue.nack(20, { receipts: [b!.receipt] }, 30);
      expect(queue.counts()).toEqual({ ready: 1, inflight: 0, delayed: 2, enqueued: 4, acked: 1 });
      expectConsistent(0);
      queue.tick(100);
      expect(queue.counts()).toEqual({ ready: 3, inflight: 0, delayed: 0, enqueued: 4, acked: 1 });
      queue.receive(100, 3, 10);
      queue.tick(110);
      expect(queue.counts()).toEqual({ ready: 3, inflight: 0, delayed: 0, enqueued: 4, acked: 1 });
      queue.ack(110, { ids: [ids[3]!, ids[0]!] });
      expect(queue.counts()).toEqual({ ready: 2, inflight: 0, delayed: 0, enqueued: 4, acked: 2 });
      expectConsistent(0);
      queue.machine.apply({ type: 'purge', ts: 120, queue: 'q' });
      expectConsistent(2);
      expect(queue.stats().dead).toBe(0);
      expect(queue.machine.list().map((stats) => stats.name)).toEqual(['q']);
    });

    it('answers hasDeliverable from the ready count', () => {
      const queue = new Queue();
      expect(queue.machine.hasDeliverable('q')).toBe(false);
      queue.enqueue(0, message('a'));
      expect(queue.machine.hasDeliverable('q')).toBe(true);
      queue.receive(0, 1);
      expect(queue.machine.hasDeliverable('q')).toBe(false);
    });
  });
});

describe('QueueStateMachine: dead letters', () => {
  function machineWith(maxDeliveries: number): QueueStateMachine {
    const machine = new QueueStateMachine();
    machine.apply({ type: 'configure', ts: 0, queue: 'work', config: { maxDeliveries, visibilityMs: 100, backoff: { baseMs: 0, maxMs: 0 } } });
    machine.apply({ type: 'enqueue', ts: 0, queue: 'work', messages: [{ body: 'poison', priority: 3, delayMs: 0, bytes: 6 }] });
    return machine;
  }

  it('moves a message to the dead-letter queue after maxDeliveries expired leases, with where it came from', () => {
    const machine = machineWith(2);
    const first = machine.apply({ type: 'receive', ts: 0, queue: 'work', max: 1, visibilityMs: undefined });
    expect(first).toMatchObject({ messages: [{ attempt: 1 }] });
    machine.apply({ type: 'receive', ts: 150, queue: 'work', max: 1, visibilityMs: undefined });
    machine.apply({ type: 'tick', ts: 300 });
    expect(machine.stats('work')).toMatchObject({ ready: 0, inflight: 0, dead: 1 });
    const dead = machine.apply({ type: 'receive', ts: 300, queue: 'work.dlq', max: 1, visibilityMs: undefined });
    expect(dead).toMatchObject({
      messages: [{ body: 'poison', priority: 3, attempt: 1, deadLetter: { queue: 'work', reason: 'maxDeliveries', attempts: 2 } }],
    });
  });

  it('moves a message nacked for the last allowed time, and keeps it when deliveries are unlimited', () => {
    const machine = machineWith(1);
    const delivered = machine.apply({ type: 'receive', ts: 0, queue: 'work', max: 1, visibilityMs: undefined });
    const receipt = delivered.type === 'received' ? delivered.messages[0]!.receipt : '';
    machine.apply({ type: 'nack', ts: 10, queue: 'work', ids: [], receipts: [receipt], delayMs: 0, seed: 0 });
    expect(machine.stats('work.dlq')).toMatchObject({ ready: 1 });
    const unlimited = machineWith(0);
    for (let ts = 0; ts < 1000; ts += 150) unlimited.apply({ type: 'receive', ts, queue: 'work', max: 1, visibilityMs: undefined });
    expect(unlimited.stats('work')).toMatchObject({ dead: 0 });
    expect(unlimited.stats('work.dlq')).toBeUndefined();
  });

  it('keeps dead letters and the dead count through a snapshot', () => {
    const machine = machineWith(1);
    machine.apply({ type: 'receive', ts: 0, queue: 'work', max: 1, visibilityMs: undefined });
    machine.apply({ type: 'tick', ts: 200 });
    const restored = new QueueStateMachine();
    restored.restore(machine.snapshot());
    expect(restored.stats('work')).toMatchObject({ dead: 1 });
    expect(restored.apply({ type: 'receive', ts: 300, queue: 'work.dlq', max: 1, visibilityMs: undefined })).toMatchObject({
      messages: [{ deadLetter: { queue: 'work' } }],
    });
  });
});
