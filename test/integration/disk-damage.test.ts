import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

const QUEUE = 'damage';

/** Deletes every log entry from `index` on in a stopped node's LevelDB, as dropped records would. */
async function loseLogFrom(dataDir: string, index: number): Promise<number> {
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
  let lost = 0;
  for await (const key of raw.keys({ gt: Uint8Array.of(0x6c), lt: Uint8Array.of(0x6d) })) {
    if (Number(new DataView(key.buffer, key.byteOffset).getBigUint64(1)) < index) continue;
    await raw.del(key);
    lost++;
  }
  await raw.close();
  return lost;
}

// RELIABILITY R11: a follower's disk loses entries it acknowledged while it is stopped. It must
// notice, refuse to vote, be repaired from the leader, and end as a voter holding everything.
describe('a follower whose disk lost acknowledged entries', () => {
  const startCluster = clusterPerTest();

  it('restarts recovering under its own id, is repaired from the leader, and votes again with every message', async () => {
    const cluster = await startCluster(3);
    const leader = await cluster.waitForLeader();
    const follower = (leader + 1) % 3;
    const before = (await cluster.request(follower, 'GET', '/cluster?stale=1')).body.self.id as string;
    const acknowledged: string[] = [];
    for (let i = 0; i < 60; i++) {
      await cluster.enqueue(leader, QUEUE, `m${i}`, `m${i}`);
      acknowledged.push(`m${i}`);
    }
    await waitFor(
      async () => {
        const view = (await cluster.request(follower, 'GET', '/cluster?stale=1')).body;
        return view.self.appliedIndex >= 60 ? true : undefined;
      },
      20_000,
      'the follower to hold every message',
    );

    await cluster.cluster.kill(follower, 'SIGKILL');
    expect(await loseLogFrom(cluster.cluster.nodes[follower]!.dataDir, 3)).toBeGreaterThan(50);
    cluster.cluster.start(follower);
    for (let i = 60; i < 80; i++) {
      await cluster.enqueue(leader, QUEUE, `m${i}`, `m${i}`);
      acknowledged.push(`m${i}`);
    }

    const repaired = await waitFor(
      async () => {
        const view = (await cluster.request(follower, 'GET', '/cluster?stale=1')).body;
        const voter = view.members.find((member: { id: string }) => member.id === view.self.id)?.raft === 'voter';
        return !view.self.recovering && voter && view.self.appliedIndex >= view.self.commitIndex ? view : undefined;
      },
      60_000,
      'the follower to be repaired and a voter again',
    );
    expect(repaired.self.id).toBe(before);
    expect(cluster.lines.some((line) => line.includes('recovering: this node lost data it had acknowledged'))).toBe(true);
    const onFollower = (await cluster.request(follower, 'GET', `/queues/${QUEUE}?stale=1`)).body;
    expect(onFollower.ready).toBe(acknowledged.length);
    expect((await cluster.request(follower, 'GET', '/health')).status).toBe(200);
  });
});
