import { describe, expect, it } from 'vitest';
import { PRODUCER_LIMITS, QueueStateMachine } from '../../../src/queue/index.ts';
import type { ProducerStamp } from '../../../src/shared/index.ts';
import { expectType, message } from '../../support/queue-timeline.ts';

// Goal: a producer's retried request is answered from its first application and never enqueues
// twice, while the machine keeps only the answers the producer may still ask for again.
describe('idempotent producers', () => {
  const stamp = (seq: number, settledBelow = 0, id = 'p1'): ProducerStamp => ({ id, seq, settledBelow });
  const enqueue = (machine: QueueStateMachine, ts: number, producer: ProducerStamp, body = 'x') =>
    machine.apply({ type: 'enqueue', ts, queue: 'q', messages: [message(body)], producer });

  it('answers a retry from the first application and enqueues once', () => {
    const machine = new QueueStateMachine();
    const first = expectType(enqueue(machine, 1, stamp(0)), 'enqueued');
    const retry = expectType(enqueue(machine, 2, stamp(0)), 'enqueued');
    expect(retry).toEqual(first);
    expect(machine.stats('q')).toMatchObject({ ready: 1, enqueued: 1 });
  });

  it('applies distinct requests of one producer, and the same number from another producer', () => {
    const machine = new QueueStateMachine();
    enqueue(machine, 1, stamp(0));
    enqueue(machine, 1, stamp(1));
    enqueue(machine, 1, stamp(0, 0, 'p2'));
    expect(machine.stats('q')).toMatchObject({ ready: 3 });
  });

  it('refuses a delayed copy of a request the producer has settled, without applying it', () => {
    const machine = new QueueStateMachine();
    enqueue(machine, 1, stamp(0));
    enqueue(machine, 2, stamp(1, 1));
    const late = enqueue(machine, 3, stamp(0, 0));
    expect(late).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(machine.stats('q')).toMatchObject({ ready: 2 });
  });

  it('remembers a definite failure too, so a retry cannot succeed behind the caller back', () => {
    const machine = new QueueStateMachine();
    machine.apply({ type: 'configure', ts: 0, queue: 'q', config: { maxLength: 1 } });
    enqueue(machine, 1, stamp(0));
    expect(enqueue(machine, 2, stamp(1))).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
    machine.apply({ type: 'purge', ts: 3, queue: 'q' });
    expect(enqueue(machine, 4, stamp(1))).toMatchObject({ type: 'error', code: 'QUEUE_FULL' });
    expect(machine.stats('q')).toMatchObject({ ready: 0 });
  });

  it('keeps sessions across a snapshot', () => {
    const machine = new QueueStateMachine();
    const first = expectType(enqueue(machine, 1, stamp(0)), 'enqueued');
    const restored = new QueueStateMachine();
    restored.restore(machine.snapshot());
    expect(expectType(enqueue(restored, 2, stamp(0)), 'enqueued')).toEqual(first);
    expect(restored.stats('q')).toMatchObject({ ready: 1 });
  });

  it('forgets a producer idle past the limit, through the tick, and reports that deadline', () => {
    const machine = new QueueStateMachine();
    enqueue(machine, 1000, stamp(0));
    expect(machine.nextDeadline()).toBe(1000 + PRODUCER_LIMITS.idleMs);
    machine.apply({ type: 'tick', ts: 1000 + PRODUCER_LIMITS.idleMs });
    expect(machine.nextDeadline()).toBeUndefined();
    // Forgotten: the same number is new again (a producer idle that long is not retrying).
    enqueue(machine, 2000 + PRODUCER_LIMITS.idleMs, stamp(0));
    expect(machine.stats('q')).toMatchObject({ ready: 2 });
  });

  it('refuses a producer with too many unsettled requests, as overload', () => {
    const machine = new QueueStateMachine();
    for (let seq = 0; seq < PRODUCER_LIMITS.unsettledMax; seq++) enqueue(machine, 1, stamp(seq));
    expect(enqueue(machine, 2, stamp(PRODUCER_LIMITS.unsettledMax))).toMatchObject({ type: 'error', code: 'OVERLOADED' });
    expect(enqueue(machine, 3, stamp(PRODUCER_LIMITS.unsettledMax, PRODUCER_LIMITS.unsettledMax))).toMatchObject({ type: 'enqueued' });
  });
});
