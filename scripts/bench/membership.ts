// Membership timings at default settings, each the median of --rounds runs (default 5):
//   - a new node's start to voter (two joiners into a 3-node cluster: both must be promoted);
//   - kill -9 of a member to it being marked dead on every other node (5 nodes);
//   - the longest client-visible stall of sequential enqueues when the leader is stopped with SIGTERM.
//   npx tsx scripts/bench/membership.ts [--rounds 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { connect } from '../../src/client/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

interface View {
  leader: { address: string } | null;
  members: { address: string; state: string; raft: string | null }[];
}

async function view(address: string): Promise<View | undefined> {
  try {
    return (await (await fetch(`http://${address}/cluster?stale=1`, { signal: AbortSignal.timeout(1000) })).json()) as View;
  } catch {
    return undefined;
  }
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function withCluster<T>(size: number, run: (cluster: LocalCluster) => Promise<T>): Promise<T> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-bench-'));
  const cluster = new LocalCluster({ ports: await freePorts(size), dataRoot });
  try {
    cluster.startAll();
    await until(async () => (await view(cluster.nodes[0]!.address))?.leader ?? undefined, 30_000);
    return await run(cluster);
  } finally {
    await cluster.stopAll('SIGKILL');
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

async function joinToVoter(): Promise<number> {
  return withCluster(3, async (cluster) => {
    const ports = await freePorts(2);
    const started = performance.now();
    for (const port of ports) cluster.start(cluster.add(port, [cluster.nodes[0]!.address]));
    await until(async () => {
      const members = (await view(cluster.nodes[0]!.address))?.members ?? [];
      return members.filter((member) => member.raft === 'voter').length === 5 ? true : undefined;
    }, 60_000);
    return performance.now() - started;
  });
}

async function killToDead(cluster: LocalCluster, victim: number): Promise<number> {
  const victimAddress = cluster.nodes[victim]!.address;
  const others = cluster.nodes.filter((_, index) => index !== victim).map((node) => node.address);
  const killed = performance.now();
  await cluster.kill(victim, 'SIGKILL');
  await until(async () => {
    const states = await Promise.all(others.map(async (address) => (await view(address))?.members.find((m) => m.address === victimAddress)?.state));
    return states.every((state) => state === 'dead') ? true : undefined;
  }, 120_000);
  const elapsed = performance.now() - killed;
  cluster.start(victim);
  await until(async () => ((await view(others[0]!))?.members.find((m) => m.address === victimAddress)?.state === 'alive' ? true : undefined), 60_000);
  return elapsed;
}

async function gracefulStall(): Promise<number> {
  return withCluster(3, async (cluster) => {
    const client = connect({ nodes: cluster.nodes.map((node) => node.address) });
    const leader = (await view(cluster.nodes[0]!.address))!.leader!.address;
    const leaderIndex = cluster.nodes.findIndex((node) => node.address === leader);
    let longest = 0;
    let last = performance.now();
    let running = true;
    const load = (async () => {
      for (let n = 0; running; n++) {
        await client.enqueue('stall', n);
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    longest = 0;
    await cluster.kill(leaderIndex, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    running = false;
    await load;
    client.close();
    return longest;
  });
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const joins: number[] = [];
for (let i = 0; i < rounds; i++) joins.push(await joinToVoter());
console.log(`new node start -> voter: median ${median(joins).toFixed(0)} ms (${joins.map((v) => v.toFixed(0)).join(', ')})`);
const deaths = await withCluster(5, async (cluster) => {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await killToDead(cluster, 1 + (i % 4)));
  return samples;
});
console.log(`kill -9 -> dead on every node: median ${median(deaths).toFixed(0)} ms (${deaths.map((v) => v.toFixed(0)).join(', ')})`);
const stalls: number[] = [];
for (let i = 0; i < rounds; i++) stalls.push(await gracefulStall());
console.log(`graceful leader shutdown, longest stall: median ${median(stalls).toFixed(0)} ms (${stalls.map((v) => v.toFixed(0)).join(', ')})`);
