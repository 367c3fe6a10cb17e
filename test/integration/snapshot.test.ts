import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.ts';
import { TestCluster, waitFor } from './cluster-harness.ts';

// Goal: the log is compacted behind snapshots, and a follower that missed more than the leader
// still keeps catches up through InstallSnapshot and ends with the leader's state.
describe('snapshots and compaction', () => {
  let test: TestCluster | undefined;

  afterEach(async () => {
    await test?.stop();
    test = undefined;
  });

  async function metric(cluster: TestCluster, node: number, name: string): Promise<number> {
    const response = await fetch(cluster.url(node, '/metrics'));
    const line = (await response.text()).split('\n').find((text) => text.startsWith(`${name} `));
    return Number(line?.split(' ')[1] ?? 'NaN');
  }

  it('brings a follower stopped while 50,000 messages passed back through InstallSnapshot, with the same state', async () => {
    test = await TestCluster.start(3, ['--snapshot-entries', '5000']);
    const cluster = test;
    const leader = await cluster.waitForLeader();
    const follower = [0, 1, 2].find((index) => index !== leader)!;
    await cluster.cluster.kill(follower, 'SIGKILL');

    // Through the SDK, as a user would: a request caught by a leader change is retried, not lost.
    const client = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 60_000 });
    try {
      let next = 0;
      const producers = Array.from({ length: 64 }, async () => {
        while (next < 50_000) {
          const n = next++;
          await client.enqueue('snap', n, { dedupId: `m${n}` });
        }
      });
      await Promise.all(producers);
      for (let acked = 0; acked < 25_000; ) {
        const deliveries = await client.receive('snap', { max: Math.min(1000, 25_000 - acked), visibilityMs: 600_000 });
        const settled = await client.ack('snap', { receipts: deliveries.map((delivery) => delivery.receipt) });
        acked += settled.count;
      }
    } finally {
      client.close();
    }
    const current = await cluster.waitForLeader();
    expect(await metric(cluster, current, 'quorumq_snapshots_taken')).toBeGreaterThanOrEqual(5);

    cluster.cluster.start(follower);
    const leaderStats = (await cluster.request(await cluster.waitForLeader(), 'GET', '/queues/snap')).body;
    expect(leaderStats).toMatchObject({ enqueued: 50_000, acked: 25_000, ready: 25_000, inflight: 0 });
    await waitFor(async () => {
      const stats = (await cluster.request(follower, 'GET', '/queues/snap?stale=1')).body;
      return stats?.enqueued === 50_000 && stats.acked === 25_000 && stats.ready === 25_000 ? true : undefined;
    }, 60_000, 'the restarted follower to reach the leader state');
    expect(await metric(cluster, follower, 'quorumq_snapshots_installed')).toBeGreaterThanOrEqual(1);
  });
});
