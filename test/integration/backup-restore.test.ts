import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { clusterPerTest, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: `quorumq backup` takes the whole state at one committed index while producers and consumers
// keep going; `quorumq restore` seeds a data directory from it, refusing a damaged file, and a node
// started there serves every message acknowledged before the backup, in order and in its state,
// as a new cluster that the old one cannot reach.

function quorumq(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'quorumq.ts'), ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function settle(cluster: TestCluster, queue: string, op: 'ack', receipts: readonly string[]): Promise<void> {
  const reply = await cluster.request(0, 'POST', `/queues/${queue}/${op}`, { receipts });
  expect(reply.status).toBe(200);
}

async function receive(cluster: TestCluster, node: number, queue: string, max: number): Promise<{ id: string; receipt: string }[]> {
  const reply = await cluster.request(node, 'POST', `/queues/${queue}/receive`, { max, waitMs: 500 });
  return reply.status === 200 ? reply.body.messages : [];
}

async function stateOf(cluster: TestCluster, node: number, queue: string, id: string): Promise<string | undefined> {
  const reply = await cluster.request(node, 'GET', `/queues/${queue}/messages/${id}`);
  return reply.status === 200 ? reply.body.state : undefined;
}

describe('backup and restore', () => {
  const startCluster = clusterPerTest();

  it('backs up under load, refuses a damaged file, and restores every acknowledged message in its state', async () => {
    const cluster = await startCluster(3);
    await cluster.waitForLeader();
    const enqueueAll = async (queue: string, count: number) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await cluster.enqueue(i % 3, queue, { queue, i }, `${queue}-${i}`)).id);
      return ids;
    };

    // Messages in each state: ready (and two acked), in flight under a lease, dead.
    const ready = await enqueueAll('ready-q', 20);
    const acked = await receive(cluster, 0, 'ready-q', 2);
    await settle(
      cluster,
      'ready-q',
      'ack',
      acked.map((message) => message.receipt),
    );
    expect((await cluster.request(0, 'PUT', '/queues/lease-q', { visibilityMs: 4000 })).status).toBe(201);
    const leased = await enqueueAll('lease-q', 5);
    expect((await receive(cluster, 0, 'lease-q', 5)).map((message) => message.id)).toEqual(leased);
    expect((await cluster.request(0, 'PUT', '/queues/dead-q', { maxDeliveries: 1, visibilityMs: 200 })).status).toBe(201);
    const dead = await enqueueAll('dead-q', 3);
    expect((await receive(cluster, 0, 'dead-q', 3)).length).toBe(3);
    await waitFor(async () => ((await stateOf(cluster, 0, 'dead-q', dead[2]!)) === 'dead' ? true : undefined), 15_000, 'the dead letters');

    // Load: a producer and a consumer run before, during and after the backup.
    const produced: { id: string; before: boolean }[] = [];
    const consumed = new Set<string>();
    let running = true;
    let backupStarted = false;
    const producer = (async () => {
      for (let i = 0; running; i++) {
        const { id } = await cluster.enqueue(i % 3, 'load', { i }, `load-${i}`);
        produced.push({ id, before: !backupStarted });
      }
    })();
    const consumer = (async () => {
      while (running) {
        const messages = await receive(cluster, 1, 'load', 5);
        if (messages.length === 0) continue;
        const reply = await cluster.request(1, 'POST', '/queues/load/ack', { receipts: messages.map((message) => message.receipt) });
        if (reply.status === 200) for (const message of messages) consumed.add(message.id);
      }
    })();
    await waitFor(async () => (produced.length >= 50 && consumed.size >= 10 ? true : undefined), 30_000, 'load under way');

    const file = join(cluster.dataRoot, 'state.qqb');
    const acknowledgedBefore = produced.filter((message) => message.before).map((message) => message.id);
    backupStarted = true;
    const backup = await quorumq(['backup', '--out', file, '--node', cluster.cluster.nodes[2]!.address, '--json']);
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    const header = JSON.parse(backup.stdout) as { index: number; term: number; bytes: number; sha256: string; file: string };
    expect(header.index).toBeGreaterThan(0);
    await waitFor(async () => (produced.length >= acknowledgedBefore.length + 20 ? true : undefined), 30_000, 'load after the backup');
    running = false;
    await Promise.all([producer, consumer]);

    // A damaged copy is refused, and so is a directory that is not empty.
    const bytes = readFileSync(file);
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(damaged.length * 0.75)]! ^= 0x01;
    writeFileSync(`${file}.damaged`, damaged);
    const [port] = await freePorts(1);
    const index = cluster.cluster.add(port!, [cluster.cluster.nodes[0]!.address]);
    const restored = cluster.cluster.nodes[index]!;
    const refused = await quorumq(['restore', `${file}.damaged`, '--data-dir', restored.dataDir]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/checksum does not match/);
    writeFileSync(`${file}.short`, bytes.subarray(0, bytes.length - 10));
    expect((await quorumq(['restore', `${file}.short`, '--data-dir', restored.dataDir])).stderr).toMatch(/cut short/);
    expect((await quorumq(['restore', file, '--data-dir', cluster.cluster.nodes[0]!.dataDir])).stderr).toMatch(/not empty/);

    const restore = await quorumq(['restore', file, '--data-dir', restored.dataDir, '--port', String(port)]);
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.stdout).toMatch(new RegExp(`restored index ${header.index}`));

    // Started with the old cluster as its seed: the two refuse each other, and it leads alone.
    cluster.cluster.start(index);
    await waitFor(
      async () => {
        const view = await cluster.request(index, 'GET', '/cluster');
        return view.status === 200 && view.body.leader?.address === restored.address ? view.body : undefined;
      },
      30_000,
      'the restored node to lead a cluster of its own',
    );
    await waitFor(
      async () => (cluster.lines.some((line) => line.includes(`at ${restored.address} belongs to another cluster`)) ? true : undefined),
      20_000,
      'the old cluster to be refused',
    );
    const members = (await cluster.request(index, 'GET', '/cluster?stale=1')).body.members as { address: string; raft: string | null }[];
    expect(members.map((member) => member.address)).toEqual([restored.address]);
    expect((await cluster.request(index, 'GET', '/cluster')).body.self.appliedIndex).toBeGreaterThanOrEqual(header.index);

    // Every message acknowledged before the backup is there: ready ones in order, acked, dead, and
    // the leased ones back in line once their lease runs out.
    for (const message of acked) expect(await stateOf(cluster, index, 'ready-q', message.id)).toBe('acked');
    const stillReady = ready.filter((id) => !acked.some((message) => message.id === id));
    const peek = await cluster.request(index, 'GET', '/queues/ready-q/messages?state=ready&limit=100');
    expect(peek.body.messages.map((message: { id: string }) => message.id)).toEqual(stillReady);
    for (const id of dead) expect(await stateOf(cluster, index, 'dead-q', id)).toBe('dead');
    for (const id of leased) expect(['inflight', 'ready']).toContain(await stateOf(cluster, index, 'lease-q', id));
    const redelivered = await waitFor(
      async () => {
        const messages = await receive(cluster, index, 'lease-q', 5);
        return messages.length === 5 ? messages : undefined;
      },
      20_000,
      'the leased messages back in line after their lease',
    );
    expect(redelivered.map((message) => message.id)).toEqual(leased);
    for (const id of acknowledgedBefore) {
      const state = await stateOf(cluster, index, 'load', id);
      expect(state === 'acked' ? consumed.has(id) : ['ready', 'inflight'].includes(state ?? 'missing')).toBe(true);
    }
    const loadReady = await cluster.request(index, 'GET', '/queues/load/messages?state=ready&limit=1000');
    const order = produced.map((message) => message.id);
    const positions = loadReady.body.messages.map((message: { id: string }) => order.indexOf(message.id));
    expect(positions.every((position: number, i: number) => position >= 0 && (i === 0 || position > positions[i - 1]))).toBe(true);
  }, 180_000);
});
