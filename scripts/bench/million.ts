// Pushes --messages (default 1,000,000) messages of 1 KB through a local 3-node cluster (enqueue,
// receive, ack; the backlog kept near 10,000), printing throughput, each node's data directory size
// and RSS every few seconds; then restarts the whole cluster and times how long until it serves
// again with the backlog intact. Checks: data dir < 160 MB and RSS < 400 MB per node, restart < 5 s.
// The disk bound is what the store may hold, not what it holds at best: two snapshots of the ~10 MB
// backlog and up to 32 MB of log behind them, uncompressed, times LevelDB's space amplification while
// its compaction catches up (seen: a plateau between 50 and 110 MB). Growth without end fails it.
//   npx tsx scripts/bench/million.ts [--messages 1000000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { connect } from '../../src/client/index.ts';
import { reportVerdicts } from './verdicts.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' } } });
const total = Number(values.messages);
const BACKLOG = 10_000;
const BATCH = 100;
const body = 'x'.repeat(1000);
const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-million-'));
const cluster = new LocalCluster({ ports: await freePorts(3), dataRoot });
const addresses = cluster.nodes.map((node) => node.address);
let peakRss = 0;
let peakDisk = 0;

function sample(): { disk: number[]; rss: number[] } {
  const disk = cluster.nodes.map((node) => Number(execFileSync('du', ['-sk', node.dataDir]).toString().split('\t')[0]) * 1024);
  const rss = cluster.nodes.map((node) => {
    const pid = node.process?.pid;
    if (pid === undefined) return 0;
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  });
  peakDisk = Math.max(peakDisk, ...disk);
  peakRss = Math.max(peakRss, ...rss);
  return { disk, rss };
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

try {
  cluster.startAll();
  const client = connect({ nodes: addresses });
  await client.enqueue('warmup', 0);
  let enqueued = 0;
  let acked = 0;
  const started = performance.now();
  const producers = Array.from({ length: 4 }, async () => {
    const producer = connect({ nodes: addresses });
    while (enqueued < total) {
      if (enqueued - acked > BACKLOG) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const count = Math.min(BATCH, total - enqueued);
      enqueued += count;
      await producer.enqueueBatch(
        'million',
        Array.from({ length: count }, () => ({ body })),
      );
    }
    producer.close();
  });
  let consuming = true;
  const consumers = Array.from({ length: 4 }, async () => {
    const consumer = connect({ nodes: addresses });
    while (consuming) {
      const deliveries = await consumer.receive('million', { max: BATCH, waitMs: 200 });
      if (deliveries.length === 0) continue;
      const settled = await consumer.ack('million', { receipts: deliveries.map((delivery) => delivery.receipt) });
      acked += settled.count;
    }
    consumer.close();
  });
  const report = setInterval(() => {
    const { disk, rss } = sample();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${seconds.toFixed(0)} s: acked ${acked} (${(acked / seconds).toFixed(0)} msgs/s), backlog ${enqueued - acked}; data ${disk.map(mb).join(' / ')}; RSS ${rss.map(mb).join(' / ')}`,
    );
  }, 5000);
  await Promise.all(producers);
  while (acked < total - BACKLOG) await new Promise((resolve) => setTimeout(resolve, 100));
  consuming = false;
  await Promise.all(consumers);
  clearInterval(report);
  const seconds = (performance.now() - started) / 1000;
  console.log(`passed ${acked} messages in ${seconds.toFixed(0)} s: ${(acked / seconds).toFixed(0)} msgs/s end to end`);
  const backlog = ((await client.getQueue('million')) as { ready: number; inflight: number }).ready;
  client.close();
  const memory = await Promise.all(
    addresses.map(async (address) => {
      const text = await (await fetch(`http://${address}/metrics`)).text();
      const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
      return `heap ${mb(read('nodejs_heap_size_used_bytes'))} of ${mb(read('nodejs_heap_size_total_bytes'))}, external ${mb(read('nodejs_external_memory_bytes'))}`;
    }),
  );
  console.log(`memory by node: ${memory.join(' | ')}`);
  const { disk, rss } = sample();
  console.log(`at the end: data ${disk.map(mb).join(' / ')}; RSS ${rss.map(mb).join(' / ')}; backlog ${backlog}`);

  await cluster.stopAll('SIGKILL');
  const restartedAt = performance.now();
  cluster.startAll();
  const probe = connect({ nodes: addresses, retryForMs: 30_000 });
  const stats = (await probe.getQueue('million')) as { ready: number; inflight: number };
  const restartMs = performance.now() - restartedAt;
  probe.close();
  console.log(
    `full-cluster restart to a linearizable read: ${restartMs.toFixed(0)} ms; backlog after restart ${stats.ready + stats.inflight} (before ${backlog})`,
  );
  const verdicts = [
    [`peak data dir ${mb(peakDisk)} < 160 MB`, peakDisk < 160 * 1048576],
    [`peak RSS ${mb(peakRss)} < 400 MB`, peakRss < 400 * 1048576],
    [`restart ${restartMs.toFixed(0)} ms < 5000 ms`, restartMs < 5000],
    ['backlog intact', stats.ready + stats.inflight === backlog],
  ] as const;
  reportVerdicts(verdicts);
} finally {
  await cluster.stopAll('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}
