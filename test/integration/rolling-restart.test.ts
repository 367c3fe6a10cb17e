import { describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.ts';
import { clusterPerTest, waitFor } from './cluster-harness.ts';
import { SteadyLoad } from './steady-load.ts';

// Goal: an operator restarts every node in turn (SIGTERM, then start with its data) under steady
// load, and clients see no failed operation (SDK retries allowed) and lose nothing.
describe('rolling restart under load', () => {
  const startCluster = clusterPerTest();

  it('finishes with zero failed client operations and every enqueued message delivered', async () => {
    const cluster = await startCluster(3);
    await cluster.waitForLeader();
    const client = connect({ nodes: cluster.cluster.nodes.map((node) => node.address), retryForMs: 30_000 });
    const load = new SteadyLoad(client, 'rolling');
    try {
      for (let index = 0; index < cluster.cluster.nodes.length; index++) {
        await cluster.cluster.kill(index, 'SIGTERM');
        cluster.cluster.start(index);
        await waitFor(async () => ((await cluster.request(index, 'GET', '/health')).status === 200 ? true : undefined), 30_000, `node ${index} healthy again`);
      }
      await load.finish();
    } finally {
      await load.stop();
      client.close();
    }
    expect(load.failures).toEqual([]);
    expect(load.enqueued.size).toBeGreaterThan(50);
    expect(load.missing()).toEqual([]);
  });
});
