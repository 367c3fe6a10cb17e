import { describe, expect, it } from 'vitest';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

const QUEUE = 'clock';
const TEN_MINUTES = 10 * 60 * 1000;

interface Delivered {
  readonly body: string;
  readonly receipt: string;
}

// RELIABILITY #10 / R9: a leader whose clock is set wrong. Entries are stamped with the voters'
// median clock, so a lease granted under a skewed leader neither ends at once (clock ahead) nor
// hangs until the clock catches up (clock behind).
describe('clock skew on the leader', () => {
  const startCluster = clusterPerTest();

  it('keeps leases to their length whichever way the leader clock is wrong', async () => {
    const cluster = await startCluster(3, ['--enable-fault-injection']);
    const leader = await cluster.waitForLeader();
    const receive = async (visibilityMs: number): Promise<Delivered[]> =>
      (await cluster.request(leader, 'POST', `/queues/${QUEUE}/receive`, { max: 10, visibilityMs })).body.messages as Delivered[];

    await cluster.enqueue(leader, QUEUE, 'ahead', 'ahead');
    const skewed = await cluster.request(leader, 'POST', '/admin/faults/clock', { offsetMs: TEN_MINUTES });
    expect(skewed.body.clock.offsetMs).toBe(TEN_MINUTES);
    const leased = await receive(4000);
    expect(leased.map((message) => message.body)).toEqual(['ahead']);
    const leasedAt = Date.now();
    // Housekeeping runs every tick: a leader trusting its own clock would expire the lease at once.
    while (Date.now() - leasedAt < 2000) {
      expect(await receive(4000)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const redelivered = await waitFor(
      async () => {
        const messages = await receive(60_000);
        return messages.length > 0 ? messages : undefined;
      },
      15_000,
      'the lease to end',
    );
    expect(redelivered.map((message) => message.body)).toEqual(['ahead']);
    await cluster.request(leader, 'POST', `/queues/${QUEUE}/ack`, { receipts: redelivered.map((message) => message.receipt) });

    await cluster.request(leader, 'POST', '/admin/faults/clock', { offsetMs: -TEN_MINUTES });
    await cluster.enqueue(leader, QUEUE, 'behind', 'behind');
    expect((await receive(1000)).map((message) => message.body)).toEqual(['behind']);
    // A leader trusting its own clock would hold this lease for ten minutes.
    const again = await waitFor(
      async () => {
        const messages = await receive(60_000);
        return messages.length > 0 ? messages : undefined;
      },
      15_000,
      'the lease to end although the leader clock is behind',
    );
    expect(again.map((message) => message.body)).toEqual(['behind']);
  });
});
