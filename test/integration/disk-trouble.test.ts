import { describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.ts';
import { clusterPerTest, type TestCluster, waitFor } from './cluster-harness.ts';

const QUEUE = 'disk';

// Issue "disk trouble": a node whose disk refuses writes stops acknowledging, steps down if it
// leads, says so in /health and /metrics, and comes back by itself once writes succeed again. The
// fault is injected under the storage stack, the way a full disk fails a write (ENOSPC).
describe('a disk that refuses writes', () => {
  const startCluster = clusterPerTest();

  it('takes the leader out until its disk recovers, losing nothing acknowledged', async () => {
    const cluster = await startCluster(3, ['--enable-fault-injection']);
    const leader = await cluster.waitForLeader();
    const acknowledged: string[] = [];
    let producing = true;
    // A producer on another node keeps writing through the fault and the election it causes.
    const other = (leader + 1) % 3;
    const producer = (async () => {
      for (let n = 0; producing; n++) {
        await cluster.enqueue(other, QUEUE, `m${n}`, `m${n}`);
        acknowledged.push(`m${n}`);
      }
    })();
    await waitFor(async () => (acknowledged.length >= 50 ? true : undefined), 30_000, '50 acknowledged enqueues');

    const injected = await cluster.request(leader, 'POST', '/admin/faults/disk', { fail: 'ENOSPC' });
    expect(injected.body.disk).toBe('ENOSPC');
    const health = await waitFor(
      async () => {
        const reply = await cluster.request(leader, 'GET', '/health');
        return reply.status === 503 && String(reply.body.reason).includes('ENOSPC') ? reply : undefined;
      },
      15_000,
      'the node to report its disk in /health',
    );
    expect(health.body.status).toBe('unavailable');
    expect(await cluster.metric(leader, 'quorumq_disk_unwritable')).toBe(1);
    const direct = await cluster.request(leader, 'POST', `/queues/${QUEUE}/messages`, { body: 'refused' });
    expect(direct.status).toBe(503);
    expect(direct.body.error.code).toBe('UNAVAILABLE');

    // The others may name the old leader for a moment before they notice its links closed.
    const others = [0, 1, 2].filter((node) => node !== leader);
    const newLeader = await waitFor(
      async () => {
        const agreed = await cluster.waitForLeader(1000, others).catch(() => undefined);
        return agreed !== undefined && agreed !== leader ? agreed : undefined;
      },
      15_000,
      'the other nodes to agree on a new leader',
    );
    expect(newLeader).not.toBe(leader);
    const before = acknowledged.length;
    await waitFor(async () => (acknowledged.length >= before + 50 ? true : undefined), 30_000, 'writes to go on without the failed node');

    await cluster.request(leader, 'POST', '/admin/faults/disk', { fail: null });
    await waitFor(async () => ((await cluster.request(leader, 'GET', '/health')).status === 200 ? true : undefined), 20_000, 'the node to rejoin');
    expect(await cluster.metric(leader, 'quorumq_disk_recoveries')).toBe(1);
    expect(await cluster.metric(leader, 'quorumq_disk_unwritable')).toBe(0);
    producing = false;
    await producer;

    // The rejoined node holds everything acknowledged, including what it missed while out.
    const commitIndex = (await cluster.request(newLeader, 'GET', '/cluster')).body.self.commitIndex as number;
    await waitFor(
      async () => {
        const view = (await cluster.request(leader, 'GET', '/cluster?stale=1')).body;
        return view.self.appliedIndex >= commitIndex ? true : undefined;
      },
      20_000,
      'the rejoined node to catch up',
    );
    const onRejoined = (await cluster.request(leader, 'GET', `/queues/${QUEUE}?stale=1`)).body;
    expect(onRejoined.ready).toBeGreaterThanOrEqual(acknowledged.length);
    await expectAllDelivered(cluster, leader, acknowledged);
    expect(cluster.lines.some((line) => line.includes('"level":60'))).toBe(false);
  });

  it('acknowledges nothing while a majority cannot write, and resumes when the disks return', async () => {
    const cluster = await startCluster(3, ['--enable-fault-injection']);
    const leader = await cluster.waitForLeader();
    const acknowledged: string[] = [];
    for (let n = 0; n < 20; n++) {
      await cluster.enqueue(leader, QUEUE, `a${n}`, `a${n}`);
      acknowledged.push(`a${n}`);
    }
    for (const node of [0, 1, 2]) await cluster.request(node, 'POST', '/admin/faults/disk', { fail: 'EIO' });
    // The first write after the fault is where each node finds out.
    const refused = await cluster.request(leader, 'POST', `/queues/${QUEUE}/messages`, { body: 'never', dedupId: 'never' });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    await waitFor(
      async () => {
        const states = await Promise.all([0, 1, 2].map((node) => cluster.request(node, 'GET', '/health')));
        return states.every((reply) => reply.status === 503 && String(reply.body.reason).includes('disk')) ? true : undefined;
      },
      15_000,
      'every node to report its disk',
    );
    for (const node of [0, 1, 2]) {
      const reply = await cluster.request(node, 'POST', `/queues/${QUEUE}/messages`, { body: 'never', dedupId: 'never' });
      expect(reply.status).toBe(503);
    }

    for (const node of [0, 1, 2]) await cluster.request(node, 'POST', '/admin/faults/heal');
    const resumed = await cluster.waitForLeader(30_000);
    await cluster.enqueue(resumed, QUEUE, 'after', 'after');
    acknowledged.push('after');
    await expectAllDelivered(cluster, resumed, acknowledged);
    for (const node of [0, 1, 2]) expect(await cluster.metric(node, 'quorumq_disk_failures')).toBe(1);
    expect(cluster.cluster.nodes.every((node) => node.process !== undefined)).toBe(true);
  });
});

describe('a disk that stalls', () => {
  const startCluster = clusterPerTest();

  it('takes a leader whose write hangs out after --disk-stall-ms, and its clients move on', async () => {
    const cluster = await startCluster(3, ['--enable-fault-injection', '--disk-stall-ms', '1000']);
    const leader = await cluster.waitForLeader();
    const client = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 30_000 });
    try {
      const acknowledged: string[] = [];
      for (let n = 0; n < 10; n++) {
        await client.enqueue(QUEUE, `s${n}`);
        acknowledged.push(`s${n}`);
      }
      const stalled = await cluster.request(leader, 'POST', '/admin/faults/disk', { stall: true });
      expect(stalled.body.diskStalled).toBe(true);

      // The write never fails, it hangs: only the watchdog answers this request before its timeout.
      const stuck = await cluster.request(leader, 'POST', `/queues/${QUEUE}/messages`, { body: 'stuck', dedupId: 'stuck' });
      expect(stuck.status).toBe(503);
      expect(stuck.body.error.code).toBe('UNAVAILABLE');
      expect(stuck.body.error.message).toContain('DISK_STALLED');
      const health = await cluster.request(leader, 'GET', '/health');
      expect(health.status).toBe(503);
      expect(String(health.body.reason)).toContain('has not finished a synced write');

      // The SDK client was on the leader: its connection is closed, and it finds the new leader.
      await client.enqueue(QUEUE, 'after the stall');
      acknowledged.push('after the stall');
      const others = [0, 1, 2].filter((node) => node !== leader);
      const newLeader = await cluster.waitForLeader(15_000, others);

      await cluster.request(leader, 'POST', '/admin/faults/disk', { stall: false });
      await waitFor(async () => ((await cluster.request(leader, 'GET', '/health')).status === 200 ? true : undefined), 20_000, 'the node to rejoin');
      expect(await cluster.metric(leader, 'quorumq_disk_recoveries')).toBe(1);
      // The stalled write finished once released, and the write-time histogram shows it (over 1 s).
      const [writes, withinOneSecond] = await cluster.metrics(leader, [
        'quorumq_log_write_duration_seconds_count',
        'quorumq_log_write_duration_seconds_bucket{le="1"}',
      ]);
      expect(writes - withinOneSecond).toBeGreaterThanOrEqual(1);
      await expectAllDelivered(cluster, newLeader, acknowledged);
      expect(cluster.lines.some((line) => line.includes('"level":60'))).toBe(false);
    } finally {
      client.close();
    }
  });
});

async function expectAllDelivered(cluster: TestCluster, node: number, acknowledged: readonly string[]): Promise<void> {
  const received = new Set<string>();
  await waitFor(
    async () => {
      const reply = await cluster.request(node, 'POST', `/queues/${QUEUE}/receive`, { max: 1000, visibilityMs: 60_000 });
      for (const message of reply.body.messages as { body: string }[]) received.add(message.body);
      return acknowledged.every((body) => received.has(body)) ? true : undefined;
    },
    30_000,
    'every acknowledged message to be delivered',
  );
  expect(acknowledged.filter((body) => !received.has(body))).toEqual([]);
}
