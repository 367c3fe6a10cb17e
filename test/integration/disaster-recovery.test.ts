import { cpSync, renameSync, rmSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { clusterPerTest, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: when a majority is gone for good, one survivor restarted with --force-new-cluster serves
// every message the old cluster acknowledged, as a cluster of one under a new identity; blank
// nodes grow it back to three voters by gossip, and a node of the old cluster that comes back with
// its old data is refused and disturbs nothing, even one that announces no founders (an older
// release, or a node that joined from a snapshot and never stored them).
const FLAGS = ['--stabilization-ms', '500'];
const MESSAGES = 40;

interface Member {
  readonly address: string;
  readonly raft: string | null;
}

async function votersSeenBy(cluster: TestCluster, via: number): Promise<string[]> {
  const view = await cluster.request(via, 'GET', '/cluster?stale=1');
  return (view.body.members as Member[])
    .filter((member) => member.raft === 'voter')
    .map((member) => member.address)
    .sort();
}

/** Deletes a stopped node's stored founders (the LevelDB meta key, see level-storage.ts): it announces none, as an older release may. */
async function forgetFounders(dataDir: string): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    await db.del(Uint8Array.of(0x6d, ...new TextEncoder().encode('founders')));
  } finally {
    await db.close();
  }
}

async function exited(cluster: TestCluster, index: number, timeoutMs: number): Promise<number | null> {
  const child = cluster.cluster.nodes[index]!.process;
  if (child === undefined) return null;
  return waitFor(async () => (child.exitCode === null ? undefined : child.exitCode), timeoutMs, 'the node to exit');
}

describe('disaster recovery with --force-new-cluster', () => {
  const startCluster = clusterPerTest();

  it('a survivor serves every acknowledged message alone, refuses the old cluster, and grows back to three voters', async () => {
    // Snapshots every few entries: the logs no longer start with the founding configuration, so a node
    // whose stored founders are gone cannot read them back from its log (as a node that joined from a
    // snapshot could not).
    const cluster = await startCluster(3, [...FLAGS, '--snapshot-entries', '10']);
    const nodes = cluster.cluster.nodes;
    await cluster.waitForLeader();
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) ids.push((await cluster.enqueue(i % 3, 'dr', { n: i }, `dr-${i}`)).id);

    // Every node dies at once; two of them lose their disks for good. The third's data is copied
    // as it was at the kill, to come back later as a stale member of the old cluster.
    for (let i = 0; i < 3; i++) await cluster.cluster.kill(i, 'SIGKILL');
    const [survivor, stale, lost] = [0, 1, 2];
    const staleCopy = `${nodes[stale]!.dataDir}.copy`;
    cpSync(nodes[stale]!.dataDir, staleCopy, { recursive: true });
    const lostCopy = `${nodes[lost]!.dataDir}.copy`;
    cpSync(nodes[lost]!.dataDir, lostCopy, { recursive: true });
    rmSync(nodes[stale]!.dataDir, { recursive: true, force: true });
    rmSync(nodes[lost]!.dataDir, { recursive: true, force: true });

    cluster.cluster.start(survivor, [...FLAGS, '--force-new-cluster']);
    await waitFor(
      async () => {
        const view = await cluster.request(survivor, 'GET', '/cluster');
        return view.status === 200 && view.body.leader?.address === nodes[survivor]!.address ? true : undefined;
      },
      30_000,
      'the survivor to lead a cluster of its own',
    );
    expect(await votersSeenBy(cluster, survivor)).toEqual([nodes[survivor]!.address]);
    expect(cluster.lines.some((line) => line.includes('--force-new-cluster: this node becomes a NEW single-voter cluster'))).toBe(true);

    // The flag is for one start: given again, the node refuses to start and says why.
    await cluster.cluster.kill(survivor, 'SIGTERM');
    cluster.cluster.start(survivor, [...FLAGS, '--force-new-cluster']);
    expect(await exited(cluster, survivor, 30_000)).toBe(1);
    expect(cluster.lines.some((line) => line.includes('--force-new-cluster was already carried out'))).toBe(true);
    cluster.cluster.start(survivor, FLAGS);
    await cluster.waitForLeader(30_000, [survivor]);

    const received = await cluster.request(survivor, 'POST', '/queues/dr/receive', { max: MESSAGES, waitMs: 1000 });
    expect(received.status).toBe(200);
    expect(received.body.messages.map((message: { id: string }) => message.id)).toEqual(ids);

    // The stale node comes back at its old address with the old cluster's data: both ends refuse the link.
    renameSync(staleCopy, nodes[stale]!.dataDir);
    cluster.cluster.start(stale, FLAGS);
    await waitFor(
      async () => (cluster.lines.some((line) => line.includes('belongs to another cluster')) ? true : undefined),
      30_000,
      'the stale node to be refused',
    );

    // Two blank nodes join through the survivor and the cluster grows back to three voters.
    const [portD, portE] = await freePorts(2);
    const d = cluster.cluster.add(portD!, [nodes[survivor]!.address]);
    const e = cluster.cluster.add(portE!, [nodes[survivor]!.address]);
    cluster.cluster.start(d, FLAGS);
    cluster.cluster.start(e, FLAGS);
    const expected = [nodes[survivor]!.address, nodes[d]!.address, nodes[e]!.address].sort();
    await waitFor(
      async () => {
        const current = await votersSeenBy(cluster, survivor);
        return current.join() === expected.join() ? true : undefined;
      },
      60_000,
      'three voters: the survivor and the two new nodes',
    );
    // Every member of the new cluster agrees on its leader, and the stale node never joined it.
    const leader = await cluster.waitForLeader(20_000, [survivor, d, e]);
    expect([survivor, d, e]).toContain(leader);
    const staleView = await cluster.request(stale, 'GET', '/cluster?stale=1');
    expect(staleView.body.leader).toBeNull();
    for (const via of [survivor, d, e]) expect(await votersSeenBy(cluster, via)).toEqual(expected);
    const members = (await cluster.request(survivor, 'GET', '/cluster?stale=1')).body.members as Member[];
    expect(members.map((member) => member.address)).not.toContain(nodes[stale]!.address);

    // The new members learnt the new identity from their leader (their logs start at a snapshot),
    // so that they announce it from their next start on; and the new cluster takes writes.
    for (const joiner of [d, e]) {
      const learnt = cluster.lines.some((line) => line.startsWith(`[${nodes[joiner]!.port}]`) && line.includes('learnt the founders of this cluster'));
      expect(learnt).toBe(true);
    }
    const enqueued = await cluster.enqueue(d, 'dr', { n: 'after' }, 'dr-after');
    const status = await cluster.request(e, 'GET', `/queues/dr/messages/${enqueued.id}`);
    expect(status.status).toBe(200);
    const refounded = (await cluster.request(survivor, 'GET', '/cluster?stale=1')).body.self.founders as string[];
    expect(refounded).toHaveLength(2);
    expect(refounded.some((id) => id.startsWith('refounded.'))).toBe(true);

    // The other lost node comes back too, with its old data but without founders: it holds state and
    // announces none, so the new cluster refuses it as well, and it never joins nor disturbs the leader.
    await cluster.cluster.kill(stale, 'SIGTERM');
    renameSync(lostCopy, nodes[lost]!.dataDir);
    await forgetFounders(nodes[lost]!.dataDir);
    cluster.cluster.start(lost, FLAGS);
    await waitFor(
      async () => (cluster.lines.some((line) => line.includes('announces no founders but holds cluster state')) ? true : undefined),
      30_000,
      'the node without founders to be refused',
    );
    const termBefore = (await cluster.request(survivor, 'GET', '/cluster?stale=1')).body.self.term as number;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const lostView = await cluster.request(lost, 'GET', '/cluster?stale=1');
    expect(lostView.body.leader).toBeNull();
    expect(lostView.body.self.founders).toBeNull();
    const after = (await cluster.request(survivor, 'GET', '/cluster?stale=1')).body;
    expect(after.self.term).toBe(termBefore);
    expect((after.members as Member[]).map((member) => member.address)).not.toContain(nodes[lost]!.address);
    for (const via of [survivor, d, e]) expect(await votersSeenBy(cluster, via)).toEqual(expected);
    const last = await cluster.enqueue(survivor, 'dr', { n: 'last' }, 'dr-last');
    expect((await cluster.request(d, 'GET', `/queues/dr/messages/${last.id}`)).status).toBe(200);
  }, 180_000);
});
