// Builds a large backlog on a local 3-node cluster (--mb, default 300 MB of --bytes, default 1 KB, messages, enqueued
// 500 at a time, nothing consumed) and watches leadership meanwhile: every node snapshots the whole
// backlog again and again, so this is where snapshotting shows what it costs a node. Prints
// progress, the slowest enqueue and each node's Raft term every 20,000 messages. Checks: no leader
// change, no enqueue slower than 2 s, the backlog intact after a full-cluster restart.
//   npx tsx scripts/bench/backlog.ts [--mb 300] [--bytes 1000]   (a million small ones: --mb 250 --bytes 250)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { connect } from '../../src/client/index.ts';
import { reportVerdicts } from './verdicts.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '300' }, bytes: { type: 'string', default: '1000' } } });
const messageBytes = Number(values.bytes);
const total = Math.round((Number(values.mb) * 1_000_000) / messageBytes);
if (!Number.isInteger(messageBytes) || messageBytes < 10 || messageBytes > 1_000_000) throw new Error('--bytes must be 10..1000000');
if (!Number.isSafeInteger(total) || total <= 0 || Number(values.mb) > 900 || total > 2_000_000) {
  throw new Error('--mb must be 1..900, and at most 2,000,000 messages (the nodes hold the backlog in memory)');
}
const BATCH = 500;
const QUEUE = 'backlog';
const ENQUEUE_SLOW_MS = 2000;
const body = 'x'.repeat(messageBytes);
const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-backlog-'));
const cluster = new LocalCluster({ ports: await freePorts(3), dataRoot });
const addresses = cluster.nodes.map((node) => node.address);

async function terms(): Promise<number[]> {
  return Promise.all(
    addresses.map(async (address) => {
      const text = await (await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return Number(/^quorumq_raft_term (\S+)/m.exec(text)?.[1] ?? Number.NaN);
    }),
  );
}

try {
  cluster.startAll();
  const client = connect({ nodes: addresses, retryForMs: 30_000 });
  await client.enqueue('warmup', 0);
  const startTerms = await terms();
  const started = performance.now();
  let slowestMs = 0;
  for (let sent = 0; sent < total; ) {
    const count = Math.min(BATCH, total - sent);
    const at = performance.now();
    await client.enqueueBatch(
      QUEUE,
      Array.from({ length: count }, () => ({ body })),
    );
    slowestMs = Math.max(slowestMs, performance.now() - at);
    sent += count;
    if (sent % 20_000 === 0 || sent === total) {
      console.log(
        `${((performance.now() - started) / 1000).toFixed(1)} s: ${sent} messages, slowest enqueue ${slowestMs.toFixed(0)} ms, terms ${(await terms()).join(' / ')}`,
      );
    }
  }
  const endTerms = await terms();
  const backlog = ((await client.getQueue(QUEUE)) as { ready: number }).ready;
  client.close();
  await cluster.stopAll('SIGKILL');
  cluster.startAll();
  const probe = connect({ nodes: addresses, retryForMs: 60_000 });
  const after = ((await probe.getQueue(QUEUE)) as { ready: number }).ready;
  probe.close();
  const verdicts = [
    [`no leader change (terms ${startTerms.join(' / ')} -> ${endTerms.join(' / ')})`, endTerms.every((term) => term === startTerms[0])],
    [`slowest enqueue ${slowestMs.toFixed(0)} ms < ${ENQUEUE_SLOW_MS} ms`, slowestMs < ENQUEUE_SLOW_MS],
    [`backlog intact after a restart (${after} of ${total})`, backlog === total && after === total],
  ] as const;
  reportVerdicts(verdicts);
} finally {
  await cluster.stopAll('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}
