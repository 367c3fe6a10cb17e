// Pushes --messages (default 1,000,000) messages of 1 KB through a local 3-node cluster (enqueue,
// receive, ack; the backlog kept near 10,000), printing throughput, each node's data directory size
// and RSS every few seconds; then restarts the whole cluster and times how long until it serves
// again with the backlog intact. Checks: data dir < 160 MB and RSS < 400 MB per node, restart < 5 s.
// The disk bound is what the store may hold, not what it holds at best: two snapshots of the ~10 MB
// backlog and up to 32 MB of log behind them, uncompressed, times LevelDB's space amplification while
// its compaction catches up (seen: a plateau between 50 and 110 MB). Growth without end fails it.
// --http moves the messages over HTTP/JSON instead of the SDK (the operator's measurement in the disk
// issue: batches of 500, a backlog of 2,000); --batch and --backlog set those sizes.
//   npx tsx scripts/bench/million.ts [--messages 1000000] [--http] [--batch 100] [--backlog 10000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
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
  const post = async (path: string, payload: unknown): Promise<unknown> => {
    const response = await fetch(`http://${address}/queues/million/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    enqueue: async (count) => void (await post('messages', { messages: Array.from({ length: count }, () => ({ body })) })),
    receiveAndAck: async () => {
      const { messages } = (await post('receive', { max: Math.min(BATCH, 1000), waitMs: 200 })) as { messages: { receipt: string }[] };
      if (messages.length === 0) return 0;
      return ((await post('ack', { receipts: messages.map((message) => message.receipt) })) as { acked: number }).acked;
    },
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
