import { describe, expect, it } from 'vitest';
import { QueueStateMachine } from '../../../src/queue/index.ts';
import { decode } from '../../../src/shared/codec.ts';
import { expectType, message, Queue } from '../../support/queue-timeline.ts';

function raised(queue: Queue, ts: number, version = 2): void {
  expect(queue.machine.apply({ type: 'clusterVersion', ts, version })).toEqual({ type: 'clusterVersion', version: Math.max(version, 1) });
}

describe('cluster version in the queue state machine', () => {
  it('refuses a command of a later version, alike on every replica, until the version is raised', () => {
    const queue = new Queue();
    const { ids } = queue.enqueue(0, message('later', { delayMs: 1000 }));
    const refused = queue.machine.apply({ type: 'promote', ts: 1, queue: queue.name, ids });
    expect(refused).toMatchObject({ type: 'error', code: 'FEATURE_NOT_ENABLED' });
    expect(queue.stats().delayed).toBe(1);
    raised(queue, 2);
    expect(queue.machine.apply({ type: 'promote', ts: 3, queue: queue.name, ids })).toEqual({ type: 'promoted', count: 1, rejected: [] });
    expect(queue.bodies(3, 10)).toEqual(['later']);
  });

  it('never lowers the version', () => {
    const queue = new Queue();
    raised(queue, 1, 3);
    expect(queue.machine.apply({ type: 'clusterVersion', ts: 2, version: 2 })).toEqual({ type: 'clusterVersion', version: 3 });
    expect(queue.machine.clusterVersion).toBe(3);
  });

  it('promotes delayed messages in commit order, behind those already in line, and refuses the rest by reason', () => {
    const queue = new Queue();
    raised(queue, 0);
    const delayed = queue.enqueue(0, message('d1', { delayMs: 500 }), message('d2', { delayMs: 500 }));
    queue.enqueue(1, message('ready'));
    const [leased] = queue.receive(2, 1);
    const promoted = expectType(
      queue.machine.apply({ type: 'promote', ts: 3, queue: queue.name, ids: [delayed.ids[1]!, delayed.ids[0]!, leased!.id, 'nope'] }),
      'promoted',
    );
    expect(promoted.count).toBe(2);
    expect(promoted.rejected).toEqual([
      { id: leased!.id, code: 'NOT_DELAYED' },
      { id: 'nope', code: 'NOT_FOUND' },
    ]);
    queue.enqueue(3, message('after'));
    expect(queue.bodies(4, 10)).toEqual(['d1', 'd2', 'after']);
  });

  it('counts nacks, lease expiries and expiries from the raise, and a snapshot carries them and the version', () => {
    const queue = new Queue();
    queue.configure(0, { maxDeliveries: 0 });
    queue.enqueue(0, message('a'), message('b'), message('c', { ttlMs: 50 }));
    queue.nack(1, { ids: queue.receive(1, 1).map((delivery) => delivery.id) }, 0);
    expect(queue.stats()).toMatchObject({ nacked: 1 });
    raised(queue, 2);
    expect(queue.stats()).toMatchObject({ nacked: 0, leaseExpired: 0, expired: 0 });
    queue.nack(3, { ids: queue.receive(3, 1, 10).map((delivery) => delivery.id) }, 0);
    queue.receive(4, 1, 10);
    queue.tick(100);
    expect(queue.stats()).toMatchObject({ nacked: 1, leaseExpired: 1, expired: 1 });
    const restored = new QueueStateMachine();
    restored.restore(queue.machine.snapshot());
    expect(restored.clusterVersion).toBe(2);
    expect(restored.stats(queue.name)).toEqual(queue.stats());
  });

  it('writes no version into a snapshot before the raise, so that a release from before the gate reads it as ever', () => {
    const queue = new Queue();
    queue.enqueue(0, message('a'));
    const snapshot = queue.machine.snapshot();
    expect(Object.keys(decode(snapshot) as object)).not.toContain('clusterVersion');
    expect((decode(snapshot) as { version: number }).version).toBe(2);
    const restored = new QueueStateMachine();
    restored.restore(snapshot);
    expect(restored.clusterVersion).toBe(1);
    // After the raise, a snapshot version that release (which knows 1 and 2) refuses at start, rather than run a state whose commands it does not know.
    raised(queue, 1);
    expect((decode(queue.machine.snapshot()) as { version: number }).version).toBe(3);
  });
});
