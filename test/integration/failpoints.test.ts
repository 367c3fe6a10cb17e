import { describe, expect, it } from 'vitest';
import { FAILPOINTS_ENV } from '../../src/storage/index.ts';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

const QUEUE = 'failpoints';

// RELIABILITY #20: a follower dies between its synced append and its acknowledgement, restarts
// with its data, and the cluster has lost nothing it acknowledged.
describe('crash failpoints', () => {
  const startCluster = clusterPerTest();

  it('a follower crashing after-append-sync on its 50th write rejoins with every acknowledged message', async () => {
    const cluster = await startCluster(3);
    const leader = await cluster.waitForLeader();
    const follower = (leader + 1) % 3;
    await cluster.cluster.kill(follower, 'SIGKILL');
    cluster.cluster.start(follower, [], { [FAILPOINTS_ENV]: 'after-append-sync=crash@50' });
    const child = cluster.cluster.nodes[follower]!.process!;
    const died = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let dead = false;
    void died.then(() => (dead = true));

    const acknowledged: string[] = [];
    const enqueue = async () => {
      const body = `m${acknowledged.length}`;
      await cluster.enqueue(leader, QUEUE, body, body);
      acknowledged.push(body);
    };
    // One write at a time: each enqueue is a ready of its own on the follower, so hits count writes.
    await waitFor(
      async () => {
        await enqueue();
        return dead ? true : undefined;
      },
      60_000,
      'the follower to hit its failpoint',
    );
    expect(await died).toBe('SIGKILL');
    for (let i = 0; i < 20; i++) await enqueue();

    cluster.cluster.start(follower);
    const commitIndex = (await cluster.request(leader, 'GET', '/cluster')).body.self.commitIndex as number;
    await waitFor(
      async () => {
        const view = (await cluster.request(follower, 'GET', '/cluster?stale=1')).body;
        return view.self.appliedIndex >= commitIndex ? true : undefined;
      },
      30_000,
      'the restarted follower to apply everything committed',
    );
    const onFollower = (await cluster.request(follower, 'GET', `/queues/${QUEUE}?stale=1`)).body;
    expect(onFollower.ready).toBe(acknowledged.length);

    const received = new Set<string>();
    await waitFor(
      async () => {
        const reply = await cluster.request(follower, 'POST', `/queues/${QUEUE}/receive`, { max: 1000, visibilityMs: 60_000 });
        for (const message of reply.body.messages as { body: string }[]) received.add(message.body);
        return received.size >= acknowledged.length ? true : undefined;
      },
      30_000,
      'every acknowledged message to be delivered',
    );
    expect(acknowledged.filter((body) => !received.has(body))).toEqual([]);
  });

  it('a node given an unknown failpoint refuses to start and says why', async () => {
    const cluster = await startCluster(1);
    await cluster.cluster.kill(0, 'SIGKILL');
    cluster.cluster.start(0, [], { [FAILPOINTS_ENV]: 'after-append-sink=crash' });
    const child = cluster.cluster.nodes[0]!.process!;
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).not.toBe(0);
    expect(cluster.lines.join('\n')).toMatch(/unknown failpoint "after-append-sink"/);
  });
});
