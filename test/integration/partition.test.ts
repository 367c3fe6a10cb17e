import { describe, expect, it } from 'vitest';
import { healAll, partition } from '../../scripts/fault/network-faults.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: a leader cut off from the rest answers the callers it holds soon after it steps down,
// with an outcome-unknown error they may retry elsewhere, instead of at the request timeout;
// the rest elect a leader and serve meanwhile.
describe('a leader cut off from the other nodes', () => {
  const suite = clusterForSuite(3, ['--enable-fault-injection']);

  it('tells the callers it holds that the outcome is unknown once it has stepped down, while the rest serve', async () => {
    const test: TestCluster = suite();
    const leader = await test.waitForLeader();
    const addresses = test.cluster.nodes.map((node) => node.address);
    const isolated = addresses[leader]!;
    await partition(
      isolated,
      addresses.filter((address) => address !== isolated),
      false,
    );
    try {
      const held = await test.request(leader, 'POST', '/queues/cut/messages', { body: 'held', dedupId: 'held-1' });
      // Without the step-down grace this is 504 TIMEOUT, at the 10 s request timeout.
      expect(held.status).toBe(503);
      expect(['UNAVAILABLE', 'NO_LEADER']).toContain(held.body.error.code);
      const others = [0, 1, 2].filter((index) => index !== leader);
      const served = await waitFor(
        async () => {
          const reply = await test.request(others[0]!, 'POST', '/queues/cut/messages', { body: 'served', dedupId: 'served-1' });
          return reply.status === 201 ? reply : undefined;
        },
        20_000,
        'the other two nodes to elect a leader and take an enqueue',
      );
      expect(served.body.id).toEqual(expect.any(String));
    } finally {
      await healAll(addresses);
    }
  });
});
