import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { connect, type QuorumqClient } from '../../src/client/index.ts';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

// Goal: the log is compacted behind snapshots, and a follower that missed more than the leader
// still keeps catches up through InstallSnapshot and ends with the leader's state.
describe('snapshots and compaction', () => {
  const startCluster = clusterPerTest();

  it('brings a follower stopped while 50,000 messages passed back through InstallSnapshot, with the same state', async () => {
    const cluster = await startCluster(3, ['--snapshot-entries', '100']);
    const leader = await cluster.waitForLeader();
    const follower = [0, 1, 2].find((index) => index !== leader)!;
    await cluster.cluster.kill(follower, 'SIGKILL');

    // Through the SDK, as a user would: a request caught by a leader change is retried, not lost.
    const client = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 60_000 });
    try {
      await enqueueEach(client, 50_000, 'm');
      for (let acked = 0; acked < 25_000; ) {
        const deliveries = await client.receive('snap', { max: Math.min(1000, 25_000 - acked), visibilityMs: 600_000 });
        const settled = await client.ack('snap', { receipts: deliveries.map((delivery) => delivery.receipt) });
        acked += settled.count;
      }
    } finally {
      client.close();
    }
    const current = await cluster.waitForLeader();
    expect(await cluster.metric(current, 'quorumq_snapshots_taken')).toBeGreaterThanOrEqual(2);

    cluster.cluster.start(follower);
    const leaderStats = (await cluster.request(await cluster.waitForLeader(), 'GET', '/queues/snap')).body;
    expect(leaderStats).toMatchObject({ enqueued: 50_000, acked: 25_000, ready: 25_000, inflight: 0 });
    await waitFor(
      async () => {
        const stats = (await cluster.request(follower, 'GET', '/queues/snap?stale=1')).body;
        return stats?.enqueued === 50_000 && stats.acked === 25_000 && stats.ready === 25_000 ? true : undefined;
      },
      60_000,
      'the restarted follower to reach the leader state',
    );
    expect(await cluster.metric(follower, 'quorumq_snapshots_installed')).toBeGreaterThanOrEqual(1);
    // The state is several chunks long, so it was streamed, not sent as one frame.
    expect(await cluster.metric(follower, 'quorumq_snapshot_bytes')).toBeGreaterThan(1024 * 1024);

    // A bad sector in the newest snapshot: once the follower has taken two snapshots of its own,
    // it must notice the damage on restart and rebuild from the previous one and the log.
    // How many entries a number of messages makes depends on how requests batch, so the test
    // enqueues until the follower has taken its second snapshot.
    const producer = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 60_000 });
    let extra = 0;
    try {
      await waitFor(
        async () => {
          await enqueueEach(producer, 2_000, `after${extra}-`);
          extra += 2_000;
          return (await cluster.metric(follower, 'quorumq_snapshots_taken')) >= 2 ? true : undefined;
        },
        60_000,
        'two local snapshots',
      );
    } finally {
      producer.close();
    }
    await cluster.cluster.kill(follower, 'SIGKILL');
    await damageNewestSnapshot(cluster.cluster.nodes[follower]!.dataDir);
    cluster.cluster.start(follower);
    const expected = { enqueued: 50_000 + extra, acked: 25_000, ready: 25_000 + extra };
    await waitFor(
      async () => {
        const stats = (await cluster.request(follower, 'GET', '/queues/snap?stale=1')).body;
        return stats?.enqueued === expected.enqueued && stats.acked === expected.acked && stats.ready === expected.ready ? true : undefined;
      },
      60_000,
      'the follower with a damaged snapshot to come back with the same state',
    );
    expect(await cluster.metric(follower, 'quorumq_snapshots_damaged_at_start')).toBe(1);
  });
});

/** Flips one byte in the middle of the newest stored snapshot, behind the node's back. */
async function damageNewestSnapshot(dataDir: string): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
  const prefix = new TextEncoder().encode('mraft/snapshot/');
  const end = Uint8Array.from([...prefix.subarray(0, -1), prefix[prefix.length - 1]! + 1]);
  let newest: [Uint8Array, Uint8Array] | undefined;
  for await (const entry of db.iterator({ gte: prefix, lt: end, reverse: true, limit: 1 })) newest = entry;
  if (newest === undefined) throw new Error('no snapshot to damage');
  const [key, value] = newest;
  value[value.length >> 1] = value[value.length >> 1]! ^ 0xff;
  await db.put(key, value, { sync: true });
  await db.close();
}

/** One entry per message (no batches), so the log grows by `count` entries. */
async function enqueueEach(client: QuorumqClient, count: number, prefix: string): Promise<void> {
  let next = 0;
  const producers = Array.from({ length: 64 }, async () => {
    while (next < count) {
      const n = next++;
      await client.enqueue('snap', n, { dedupId: `${prefix}${n}` });
    }
  });
  await Promise.all(producers);
}
