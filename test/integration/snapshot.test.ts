import { afterEach, describe, expect, it } from 'vitest';
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

    let next = 0;
    const producers = Array.from({ length: 64 }, async () => {
      while (next < 50_000) {
        const n = next++;
        const reply = await cluster.request(leader, 'POST', '/queues/snap/messages', { body: n });
        expect(reply.status).toBe(201);
      }
    });
    await Promise.all(producers);
    for (let round = 0; round < 25; round++) {
      const received = await cluster.request(leader, 'POST', '/queues/snap/receive', { max: 1000 });
      const receipts = received.body.messages.map((message: { receipt: string }) => message.receipt);
      const acked = await cluster.request(leader, 'POST', '/queues/snap/ack', { receipts });
      expect(acked.body.acked).toBe(receipts.length);
    }
    expect(await metric(cluster, leader, 'quorumq_snapshots_taken')).toBeGreaterThanOrEqual(5);

    cluster.cluster.start(follower);
    const leaderStats = (await cluster.request(leader, 'GET', '/queues/snap')).body;
    expect(leaderStats).toMatchObject({ enqueued: 50_000, acked: 25_000, ready: 25_000, inflight: 0 });
    await waitFor(async () => {
      const stats = (await cluster.request(follower, 'GET', '/queues/snap?stale=1')).body;
      return stats?.enqueued === 50_000 && stats.acked === 25_000 && stats.ready === 25_000 ? true : undefined;
    }, 60_000, 'the restarted follower to reach the leader state');
    expect(await metric(cluster, follower, 'quorumq_snapshots_installed')).toBeGreaterThanOrEqual(1);
  });
});
