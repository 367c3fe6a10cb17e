import { describe, expect, it } from 'vitest';
import { defaultQueueConfig, QueueStateMachine } from '../../../src/queue/index.ts';
import { encode } from '../../../src/shared/codec.ts';

// Goal: a node restarts across the upgrade: a version 1 snapshot (before TTL, history and
// retention) restores to a machine that goes on as if those had always existed.
describe('QueueStateMachine snapshots across versions', () => {
  function versionOne(): Uint8Array {
    const { retentionMs: _dropped, ...config } = defaultQueueConfig('q');
    const message = { id: '1', seq: 1, body: 'old', priority: 0, enqueuedAt: 10, bytes: 5, position: 1, attempt: 1, availableAt: 10 };
    const deadLetter = { queue: 'p', id: '0', reason: 'maxDeliveries', attempts: 3 };
    return encode({
      version: 1,
      now: 50,
      nextMessageNumber: 3,
      queues: [
        {
          name: 'q',
          config: { ...config, maxDeliveries: 2 },
          nextSeq: 3,
          nextPosition: 3,
          enqueued: 2,
          acked: 0,
          dead: 0,
          messages: [
            { ...message, state: 'inflight', leaseDeadline: 100 },
            { ...message, id: '2', seq: 2, position: 2, attempt: 0, state: 'ready', leaseDeadline: 0, deadLetter },
          ],
          dedup: [],
        },
      ],
    });
  }

  it('reads a version 1 snapshot with defaults for what it lacks', () => {
    const machine = new QueueStateMachine();
    machine.restore(versionOne());
    expect(machine.stats('q')?.config).toMatchObject({ maxDeliveries: 2, retentionMs: 300_000, messageTtlMs: 0 });
    expect(machine.messageStatus('q', '1')).toMatchObject({ state: 'inflight', history: [], leaseDeadline: 100 });
    expect(machine.messageStatus('q', '2')).toMatchObject({ state: 'ready', deadLetter: { reason: 'maxDeliveries', history: [] } });
    expect(machine.messageStatus('q', '2')?.expiresAt).toBeUndefined();
    machine.apply({ type: 'tick', ts: 100 });
    expect(machine.messageStatus('q', '1')).toMatchObject({ state: 'ready', history: [{ attempt: 1, outcome: 'leaseExpired', endedAt: 100 }] });
  });

  it('refuses a snapshot of a version it does not know', () => {
    const machine = new QueueStateMachine();
    expect(() => machine.restore(encode({ version: 99, now: 0, nextMessageNumber: 1, queues: [] }))).toThrow(/version 99/);
  });
});
