// Single-client enqueue latency through the leader and through a follower, and the time from
// kill -9 of the leader to the next successful enqueue. Starts its own 3-node cluster on free
// ports in a temp folder and removes it afterwards.
//   npx tsx scripts/bench/basics.ts [--messages 500] [--failovers 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '500' }, failovers: { type: 'string', default: '5' } } });
const messages = Number(values.messages);
const failovers = Number(values.failovers);
const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-bench-'));
const cluster = new LocalCluster({ ports: await freePorts(3), dataRoot });

try {
  cluster.startAll();
  let leader = await findLeader();
  const follower = [0, 1, 2].find((index) => index !== leader)!;
  await latency(leader, 50);
  const viaLeader = await latency(leader, messages);
  const viaFollower = await latency(follower, messages);
  console.log(`enqueue via leader:   p50 ${percentile(viaLeader, 50).toFixed(2)} ms  p99 ${percentile(viaLeader, 99).toFixed(2)} ms  (${messages} sequential)`);
  console.log(
    `enqueue via follower: p50 ${percentile(viaFollower, 50).toFixed(2)} ms  p99 ${percentile(viaFollower, 99).toFixed(2)} ms  (${messages} sequential)`,
  );
  const gaps: number[] = [];
  for (let round = 0; round < failovers; round++) {
    leader = await findLeader();
    const survivor = [0, 1, 2].find((index) => index !== leader)!;
    const killedAt = performance.now();
    await cluster.kill(leader, 'SIGKILL');
    while (!(await enqueueOnce(survivor, 'failover'))) await sleep(5);
    gaps.push(performance.now() - killedAt);
    console.log(`failover ${round + 1}: kill -9 of the leader to next successful enqueue ${gaps[gaps.length - 1]!.toFixed(0)} ms`);
    cluster.start(leader);
    await sleep(1500);
  }
  console.log(`kill -9 leader -> next enqueue: median ${percentile(gaps, 50).toFixed(0)} ms over ${failovers}`);
} finally {
  await cluster.stopAll('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}

async function latency(node: number, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    if (!(await enqueueOnce(node, 'latency'))) throw new Error('enqueue failed during the latency run');
    samples.push(performance.now() - started);
  }
  return samples;
}

async function enqueueOnce(node: number, queue: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${cluster.nodes[node]!.address}/queues/${queue}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: { at: Date.now() } }),
      signal: AbortSignal.timeout(2000),
    });
    await response.text();
    return response.status === 201;
  } catch {
    return false;
  }
}

async function findLeader(): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (let index = 0; index < 3; index++) {
      try {
        const view = (await (await fetch(`http://${cluster.nodes[index]!.address}/cluster?stale=1`)).json()) as { self: { role: string } };
        if (view.self.role === 'leader') return index;
      } catch {
        // not up yet
      }
    }
    await sleep(50);
  }
  throw new Error('no leader within 30 s');
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
