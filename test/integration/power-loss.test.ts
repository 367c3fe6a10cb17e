import { describe, expect, it } from 'vitest';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

const QUEUE = 'power';

// RELIABILITY #13: the power goes on every node at once, under load. Whatever no fsync covered is
// lost; nothing that was acknowledged may be.
describe('power loss on every node at once', () => {
  const startCluster = clusterPerTest();

  it('loses no acknowledged message', async () => {
    const cluster = await startCluster(3, ['--test-power-loss']);
    const leader = await cluster.waitForLeader();
    const acknowledged: string[] = [];
    let producing = true;
    // Writes in flight when the power goes: the point is to cut while batches are being synced.
    const producers = [0, 1, 2, 3].map(async (producer) => {
      for (let n = 0; producing; n++) {
        const body = `p${producer}-${n}`;
        const reply = await cluster.request(leader, 'POST', `/queues/${QUEUE}/messages`, { body, dedupId: body }).catch(() => undefined);
        if (reply?.status === 201) acknowledged.push(body);
        else return;
      }
    });
    await waitFor(async () => (acknowledged.length >= 200 ? true : undefined), 30_000, '200 acknowledged enqueues');
    await Promise.all(cluster.cluster.nodes.map((_, index) => cluster.cluster.kill(index, 'SIGUSR2')));
    producing = false;
    await Promise.all(producers);
    expect(cluster.lines.some((line) => line.includes('"level":60'))).toBe(false);

    cluster.cluster.startAll();
    const restarted = await cluster.waitForLeader(30_000);
    const received = new Set<string>();
    await waitFor(
      async () => {
        const reply = await cluster.request(restarted, 'POST', `/queues/${QUEUE}/receive`, { max: 1000, visibilityMs: 60_000 });
        for (const message of reply.body.messages as { body: string }[]) received.add(message.body);
        return acknowledged.every((body) => received.has(body)) ? true : undefined;
      },
      30_000,
      'every acknowledged message after the power came back',
    );
    expect(acknowledged.filter((body) => !received.has(body))).toEqual([]);
    expect(cluster.lines.some((line) => line.includes('recovering: this node lost data'))).toBe(false);
  });
});
