import { describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.ts';
import { clusterPerTest, waitFor } from './cluster-harness.ts';

// Goal: an operator restarts every node in turn (SIGTERM, then start with its data) under steady
// load, and clients see no failed operation (SDK retries allowed) and lose nothing.
describe('rolling restart under load', () => {
  const startCluster = clusterPerTest();

  it('finishes with zero failed client operations and every enqueued message delivered', async () => {
    const cluster = await startCluster(3);
    await cluster.waitForLeader();
    const client = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 30_000 });
    const failures: string[] = [];
    const enqueued = new Set<string>();
    const received = new Set<string>();
    let producing = true;
    let consuming = true;

    const producer = (async () => {
      for (let n = 0; producing; n++) {
        try {
          await client.enqueue('rolling', `v${n}`, { dedupId: `v${n}` });
          enqueued.add(`v${n}`);
        } catch (error) {
          failures.push(`enqueue v${n}: ${String(error)}`);
        }
      }
    })();
    const consumer = (async () => {
      while (consuming) {
        try {
          const deliveries = await client.receive('rolling', { max: 50, waitMs: 300, visibilityMs: 5000 });
          for (const delivery of deliveries) received.add(delivery.body as string);
          if (deliveries.length > 0) await client.ack('rolling', { receipts: deliveries.map((delivery) => delivery.receipt) });
        } catch (error) {
          failures.push(`consume: ${String(error)}`);
        }
      }
    })();

    try {
      for (let index = 0; index < cluster.cluster.nodes.length; index++) {
        await cluster.cluster.kill(index, 'SIGTERM');
        cluster.cluster.start(index);
        await waitFor(async () => ((await cluster.request(index, 'GET', '/health')).status === 200 ? true : undefined), 30_000, `node ${index} healthy again`);
      }
      producing = false;
      await producer;
      await waitFor(async () => ([...enqueued].every((value) => received.has(value)) ? true : undefined), 30_000, 'every enqueued message delivered');
    } finally {
      producing = false;
      consuming = false;
      await Promise.allSettled([producer, consumer]);
      client.close();
    }
    expect(failures).toEqual([]);
    expect(enqueued.size).toBeGreaterThan(50);
    expect([...enqueued].filter((value) => !received.has(value))).toEqual([]);
  });
});
