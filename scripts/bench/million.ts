// Pushes --messages (default 1,000,000) messages of 1 KB through a local 3-node cluster (enqueue,
// receive, ack; the backlog kept near 10,000), printing throughput, each node's data directory size
// and RSS every second; then restarts the whole cluster and times how long until it serves again
// with the backlog intact. Checks: data dir within 2 x the peak backlog + 64 MiB (and < 160 MB), RSS
// < 400 MB per node, restart < 5 s. The store holds two snapshots of the backlog and the log since
// the older one (two 8 MiB intervals); the log deleted below a snapshot is compacted away at once.
// --http moves the messages over HTTP/JSON instead of the SDK (the operator's measurement in the disk
// issue: batches of 500, a backlog of 2,000); --batch and --backlog set those sizes.
//   npx tsx scripts/bench/million.ts [--messages 1000000] [--http] [--batch 100] [--backlog 10000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { directoryBytes, HttpQueueLoad } from '../../cluster/http-queue-load.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { connect } from '../../src/client/index.ts';
import { reportVerdicts } from './verdicts.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    http: { type: 'boolean', default: false },
    batch: { type: 'string', default: '100' },
    backlog: { type: 'string', default: '10000' },
  },
});
const total = Number(values.messages);
const BACKLOG = Number(values.backlog);
const BATCH = Number(values.batch);
const body = 'x'.repeat(1000);
const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-million-'));
const cluster = new LocalCluster({ ports: await freePorts(3), dataRoot });
const addresses = cluster.nodes.map((node) => node.address);
let peakRss = 0;
let peakDisk = 0;
/** The most messages ever enqueued and not yet acked: what the disk bound is measured against. */
let peakBacklog = 0;

function sample(): { disk: number[]; rss: number[] } {
  const disk = cluster.nodes.map((node) => directoryBytes(node.dataDir));
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

/** Moves messages one way or the other: the SDK (msgpack over WebSocket) or plain HTTP/JSON. */
interface Mover {
  enqueue(count: number): Promise<void>;
  /** Receives up to a batch, acks it, and says how many were acked. */
  receiveAndAck(): Promise<number>;
  close(): void;
}

function moverFor(address: string): Mover {
  if (values.http) return httpMover(address);
  const client = connect({ nodes: addresses });
  return {
    enqueue: async (count) =>
      void (await client.enqueueBatch(
        'million',
        Array.from({ length: count }, () => ({ body })),
      )),
    receiveAndAck: async () => {
      const deliveries = await client.receive('million', { max: BATCH, waitMs: 200 });
      if (deliveries.length === 0) return 0;
      return (await client.ack('million', { receipts: deliveries.map((delivery) => delivery.receipt) })).count;
    },
    close: () => client.close(),
  };
}

function httpMover(address: string): Mover {
  const load = new HttpQueueLoad(address, 'million', BATCH);
  return {
    enqueue: (count) => load.enqueue(Array.from({ length: count }, () => body)),
    receiveAndAck: () => load.receiveAndAck(),
    close: () => undefined,
  };
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

try {
  cluster.startAll();
  const client = connect({ nodes: addresses });
  await client.enqueue('warmup', 0);
  let enqueued = 0;
  let acked = 0;
  const started = performance.now();
  const producers = Array.from({ length: 4 }, async (_, slot) => {
    const producer = moverFor(addresses[slot % addresses.length]!);
    while (enqueued < total) {
      if (enqueued - acked > BACKLOG) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const count = Math.min(BATCH, total - enqueued);
      enqueued += count;
      await producer.enqueue(count);
    }
    producer.close();
  });
  let consuming = true;
  const consumers = Array.from({ length: 4 }, async (_, slot) => {
    const consumer = moverFor(addresses[slot % addresses.length]!);
    while (consuming) {
      try {
        // Read after the await: `acked += await ...` would add to the value from before it, losing the other consumers' counts.
        const count = await consumer.receiveAndAck();
        acked += count;
      } catch (error) {
        console.error(`consumer: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    consumer.close();
  });
  const report = setInterval(() => {
    peakBacklog = Math.max(peakBacklog, enqueued - acked);
    const { disk, rss } = sample();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${seconds.toFixed(0)} s: acked ${acked} (${(acked / seconds).toFixed(0)} msgs/s), backlog ${enqueued - acked}; data ${disk.map(mb).join(' / ')}; RSS ${rss.map(mb).join(' / ')}`,
    );
  }, 1000);
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
  // Each message's body plus the JSON and record around it: what the backlog occupies, counted generously.
  const diskBacklogBytes = peakBacklog * 1100;
  const verdicts = [
    [`peak data dir ${mb(peakDisk)} < 160 MB`, peakDisk < 160 * 1048576],
    [`peak data dir ${mb(peakDisk)} <= 2 x peak backlog (${mb(diskBacklogBytes)}) + 64 MiB`, peakDisk <= 2 * diskBacklogBytes + 64 * 1048576],
    [`peak RSS ${mb(peakRss)} < 400 MB`, peakRss < 400 * 1048576],
    [`restart ${restartMs.toFixed(0)} ms < 5000 ms`, restartMs < 5000],
    ['backlog intact', stats.ready + stats.inflight === backlog],
  ] as const;
  reportVerdicts(verdicts);
} finally {
  await cluster.stopAll('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}
