import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { connect } from '../../src/client/index.ts';
import { RELEASE_CLUSTER_VERSION } from '../../src/queue/index.ts';
import { clusterPerTest, waitFor } from './cluster-harness.ts';
import { SteadyLoad } from './steady-load.ts';

/**
 * The release before the version gate, as users install it: `npm pack` of the commit before the
 * gate (test/fixtures/previous-release/README.md says how it was made). It knows no cluster version,
 * says nothing of its release at hello, and speaks peer protocol 3 only.
 */
const PREVIOUS_RELEASE = join(REPO_ROOT, 'test', 'fixtures', 'previous-release', 'quorumq-0.2.0.tgz');

// Goal: an operator replaces every node of a running cluster, one at a time, by the new release,
// under load: clients see no failed operation and lose nothing; a command the new release adds is
// refused while an old member remains, and works once every member runs the new release.
describe('rolling upgrade from the previous release', () => {
  const startCluster = clusterPerTest();
  let releaseRoot = '';
  let previousEntry = '';

  beforeAll(() => {
    releaseRoot = mkdtempSync(join(tmpdir(), 'quorumq-previous-'));
    execFileSync('tar', ['-xzf', PREVIOUS_RELEASE, '-C', releaseRoot]);
    // The package's dependencies are this checkout's: the same lockfile's versions.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(releaseRoot, 'package', 'node_modules'), 'dir');
    previousEntry = join(releaseRoot, 'package', 'dist', 'cli', 'node.js');
    expect(existsSync(previousEntry)).toBe(true);
  });

  afterAll(() => {
    if (releaseRoot !== '') rmSync(releaseRoot, { recursive: true, force: true });
  });

  it('replaces each node under load with zero failed operations and nothing lost; the new command is refused until the last old node is gone', async () => {
    const cluster = await startCluster(3, [], undefined, previousEntry);
    await cluster.waitForLeader(30_000);
    const addresses = cluster.cluster.nodes.map((node) => node.address);
    const client = connect({ nodes: addresses, retryForMs: 30_000 });
    const load = new SteadyLoad(client, 'upgrade');

    try {
      await waitFor(async () => (load.enqueued.size >= 20 ? true : undefined), 20_000, 'load running on the previous release');
      // The previous release knows no cluster version: its view of the cluster has none.
      expect(((await cluster.request(0, 'GET', '/cluster?stale=1')).body as { clusterVersion?: number }).clusterVersion).toBeUndefined();
      for (let index = 0; index < cluster.cluster.nodes.length; index++) {
        await cluster.cluster.kill(index, 'SIGTERM');
        cluster.cluster.nodes[index]!.entry = undefined;
        cluster.cluster.start(index);
        await waitFor(async () => ((await cluster.request(index, 'GET', '/health')).status === 200 ? true : undefined), 30_000, `node ${index} healthy again`);
        const view = (await cluster.request(index, 'GET', '/cluster?stale=1')).body as { clusterVersion?: number };
        if (index < cluster.cluster.nodes.length - 1) {
          // An old member remains: the cluster stays at version 1, and the new command is refused, saying who holds it back.
          expect(view.clusterVersion).toBe(1);
          const refused = await cluster.request(index, 'POST', '/queues/upgrade/promote', { ids: ['1'] });
          expect(refused.status).toBe(409);
          expect(refused.body.error.code).toBe('FEATURE_NOT_ENABLED');
          expect(refused.body.error.message).toMatch(
            /promote needs cluster version 2; the cluster runs version 1 until every member supports 2 \(.*older release\)/,
          );
        }
      }
      const upgraded = await waitFor(
        async () => {
          const views = await Promise.all(addresses.map((_, index) => cluster.request(index, 'GET', '/cluster?stale=1')));
          const versions = views.map((view) => (view.body as { clusterVersion?: number }).clusterVersion);
          return versions.every((version) => version === RELEASE_CLUSTER_VERSION) ? versions : undefined;
        },
        30_000,
        'the leader raised the cluster version once every member ran the new release',
      );
      expect(upgraded).toEqual([2, 2, 2]);

      // The new command, now: a delayed message made ready at once.
      const later = await client.enqueue('upgrade-promote', 'later', { delayMs: 600_000 });
      expect(await client.promote('upgrade-promote', [later.id])).toEqual({ promoted: 1, rejected: [] });
      const [promoted] = await client.receive('upgrade-promote', { max: 1, waitMs: 5000 });
      expect(promoted?.body).toBe('later');

      await load.finish();
    } finally {
      await load.stop();
      client.close();
    }
    expect(load.failures).toEqual([]);
    expect(load.enqueued.size).toBeGreaterThan(50);
    expect(load.missing()).toEqual([]);
  }, 240_000);
});
