import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { clusterPerTest, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: identical nodes grow, shrink and heal the cluster by themselves: joiners found through
// one seed become voters, dead members are replaced, and the cluster serves throughout.
describe('membership of real processes', () => {
  const startCluster = clusterPerTest();

  async function voters(cluster: TestCluster, via: number): Promise<string[]> {
    const view = await cluster.request(via, 'GET', '/cluster?stale=1');
    return (view.body.members as { address: string; raft: string | null }[])
      .filter((m) => m.raft === 'voter')
      .map((m) => m.address)
      .sort();
  }

  it('grows from 3 to 5 voters when two nodes join through a single seed each, then serves with two of five killed', async () => {
    const cluster = await startCluster(3, ['--stabilization-ms', '500']);
    await cluster.waitForLeader();
    const [portD, portE] = await freePorts(2);
    const d = cluster.cluster.add(portD!, [cluster.cluster.nodes[0]!.address]);
    const e = cluster.cluster.add(portE!, [cluster.cluster.nodes[1]!.address]);
    cluster.cluster.start(d, ['--stabilization-ms', '500']);
    cluster.cluster.start(e, ['--stabilization-ms', '500']);
    const all = cluster.cluster.nodes.map((node) => node.address).sort();
    await waitFor(
      async () => {
        const leader = await cluster.waitForLeader();
        const current = await voters(cluster, leader);
        return current.length === 5 && current.every((address, i) => address === all[i]) ? true : undefined;
      },
      60_000,
      'all five nodes to be voters',
    );

    const leader = await cluster.waitForLeader();
    const victims = [0, 1, 2, 3, 4].filter((index) => index !== leader).slice(0, 2);
    for (const victim of victims) await cluster.cluster.kill(victim, 'SIGKILL');
    const survivor = [0, 1, 2, 3, 4].find((index) => !victims.includes(index) && index !== leader)!;
    const enqueued = await waitFor(
      async () => {
        const reply = await cluster.request(survivor, 'POST', '/queues/five/messages', { body: 'still serving', dedupId: 'five-1' });
        return reply.status === 201 ? reply.body : undefined;
      },
      20_000,
      'an enqueue with two of five nodes down',
    );
    const received = await cluster.request(survivor, 'POST', '/queues/five/receive', { waitMs: 2000 });
    expect(received.body.messages.map((m: { id: string }) => m.id)).toEqual([enqueued.id]);
  });

  it('removes a member dead past the timeout, and a fresh node takes its place as a voter', async () => {
    const flags = ['--stabilization-ms', '500', '--dead-remove-after-ms', '2000'];
    const cluster = await startCluster(3, flags);
    const leader = await cluster.waitForLeader();
    const victim = [0, 1, 2].find((index) => index !== leader)!;
    const victimAddress = cluster.cluster.nodes[victim]!.address;
    await cluster.cluster.kill(victim, 'SIGKILL');
    const [port] = await freePorts(1);
    const fresh = cluster.cluster.add(port!, [cluster.cluster.nodes[leader]!.address]);
    cluster.cluster.start(fresh, flags);
    const expected = cluster.cluster.nodes
      .filter((_, index) => index !== victim)
      .map((node) => node.address)
      .sort();
    await waitFor(
      async () => {
        const current = await voters(cluster, await cluster.waitForLeader());
        return current.join() === expected.join() ? true : undefined;
      },
      60_000,
      `the fresh node voting in place of ${victimAddress}`,
    );
    const view = await cluster.request(fresh, 'GET', '/cluster');
    expect(view.body.members.find((m: { address: string }) => m.address === victimAddress)?.raft ?? null).toBeNull();
  });

  it('replaces the old identity of a node that came back blank, even after a full restart made everyone forget it', async () => {
    const flags = ['--stabilization-ms', '500'];
    const cluster = await startCluster(3, flags);
    const leader = await cluster.waitForLeader();
    const wiped = [0, 1, 2].find((index) => index !== leader)!;
    await cluster.cluster.kill(wiped, 'SIGKILL');
    rmSync(cluster.cluster.nodes[wiped]!.dataDir, { recursive: true, force: true });
    cluster.cluster.start(wiped, flags);
    const fresh = await waitFor(
      async () => {
        const view = await cluster.request(wiped, 'GET', '/cluster?stale=1');
        return view.body.self?.role === 'learner' ? (view.body.self.id as string) : undefined;
      },
      30_000,
      'the wiped node to rejoin as a learner under a new id',
    );
    // Every node restarts: gossip now knows only the three live identities, not the one wiped.
    for (const index of [0, 1, 2]) await cluster.cluster.kill(index, 'SIGKILL');
    for (const index of [0, 1, 2]) cluster.cluster.start(index, flags);
    await waitFor(
      async () => {
        const via = await cluster.waitForLeader(30_000);
        const view = await cluster.request(via, 'GET', '/cluster?stale=1');
        const members = view.body.members as { id: string; raft: string | null }[];
        const voterIds = members.filter((member) => member.raft === 'voter').map((member) => member.id);
        return voterIds.length === 3 && voterIds.includes(fresh) ? true : undefined;
      },
      60_000,
      'the new identity to vote in place of the old one',
    );
  });
});
