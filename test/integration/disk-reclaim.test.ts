import { describe, expect, it } from 'vitest';
import { directoryBytes, HttpQueueLoad } from '../../cluster/http-queue-load.ts';
import { clusterPerTest } from './cluster-harness.ts';

const MESSAGES = 1_000_000;
const BATCH = 500;
const BACKLOG = 2_000;
const BODY = 'x'.repeat(1000);
/** A 1 KB body with its JSON, log record and snapshot entry around it, counted generously. */
const STORED_BYTES_PER_MESSAGE = 1100;
const MIB = 1024 * 1024;

// Goal: a node's data directory follows its backlog, not its history. The log below each snapshot is
// deleted, and LevelDB keeps deleted records until a compaction reaches them: without compacting the
// deleted range at once, 1,000,000 messages of 1 KB left 590 MB per node behind a 2 MB backlog.
describe('disk use follows the backlog', () => {
  const startCluster = clusterPerTest();

  it(`stays within 2 x backlog + 64 MiB per node while ${MESSAGES.toLocaleString('en')} messages of 1 KB pass, and after`, async () => {
    const cluster = await startCluster(3);
    await cluster.waitForLeader();
    const addresses = cluster.cluster.nodes.map((node) => node.address);
    const dataDirs = cluster.cluster.nodes.map((node) => node.dataDir);
    let enqueued = 0;
    let acked = 0;
    let peakBacklog = 0;
    const peakBytes = dataDirs.map(() => 0);
    const sample = () => {
      peakBacklog = Math.max(peakBacklog, enqueued - acked);
      dataDirs.forEach((dir, index) => {
        peakBytes[index] = Math.max(peakBytes[index]!, directoryBytes(dir));
      });
    };
    const sampler = setInterval(sample, 250);
    try {
      const producers = addresses.map(async (address) => {
        const load = new HttpQueueLoad(address, 'reclaim', BATCH);
        while (enqueued < MESSAGES) {
          if (enqueued - acked >= BACKLOG) {
            await new Promise((resolve) => setTimeout(resolve, 2));
            continue;
          }
          const count = Math.min(BATCH, MESSAGES - enqueued);
          enqueued += count;
          await load.enqueue(Array.from({ length: count }, () => BODY));
        }
      });
      let producing = true;
      const consumers = addresses.map(async (address) => {
        const load = new HttpQueueLoad(address, 'reclaim', BATCH);
        while (producing || acked < enqueued) {
          const count = await load.receiveAndAck(100);
          acked += count;
        }
      });
      await Promise.all(producers);
      producing = false;
      await Promise.all(consumers);
      // Idle: nothing more arrives, and what was deleted must not come back as growth.
      const idleUntil = Date.now() + 3000;
      while (Date.now() < idleUntil) await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      clearInterval(sampler);
    }
    sample();
    expect(acked).toBe(MESSAGES);
    const bound = 2 * peakBacklog * STORED_BYTES_PER_MESSAGE + 64 * MIB;
    const report = peakBytes.map((bytes) => `${(bytes / MIB).toFixed(1)} MiB`).join(' / ');
    console.log(`disk reclaim: peak data directories ${report}; peak backlog ${peakBacklog}; bound ${(bound / MIB).toFixed(1)} MiB`);
    expect(
      peakBytes.every((bytes) => bytes <= bound),
      `peak data directories ${report}, bound ${(bound / MIB).toFixed(1)} MiB`,
    ).toBe(true);
  }, 400_000);
});
