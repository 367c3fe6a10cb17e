import { beforeEach, describe, expect, it } from 'vitest';
import { nodeRequest } from '../../cluster/node-http.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: /metrics keeps Prometheus's conventions, so that rate(), increase() and alerts work as
// operators expect: a cumulative count is a counter named `_total` and never goes down; what can go
// down is a gauge; and the probes answer as Kubernetes reads them.
interface Scrape {
  readonly types: ReadonlyMap<string, string>;
  /** `name{labels}` → value. */
  readonly samples: ReadonlyMap<string, number>;
}

function parse(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1]!, type[2]!);
    else if (line !== '' && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { types, samples };
}

describe('metrics and probes by the conventions', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  async function scrape(index: number): Promise<Scrape> {
    return parse((await nodeRequest(test.cluster.nodes[index]!.address, '/metrics', test.access, { timeoutMs: 10_000 })).text);
  }

  it('names every counter _total and only counters, and no counter goes down between scrapes', async () => {
    const leader = await test.waitForLeader();
    // A new cluster runs version 1 until its leader has heard every member: nacks count from the raise.
    const self = await waitFor(
      async () => {
        const view = (await test.request(leader, 'GET', '/cluster?stale=1')).body as { self: { id: string }; clusterVersion: number };
        return view.clusterVersion === 2 ? view.self.id : undefined;
      },
      10_000,
      'the cluster version raised',
    );
    // Every node reports every queue: its series say which node reports them.
    const series = (name: string) => `${name}{queue="measured",node="${self}"}`;
    for (let n = 0; n < 5; n++) await test.enqueue(leader, 'measured', { n }, `measured-${n}`);
    const before = await scrape(leader);
    // Ours: the process metrics are prom-client's (its `nodejs_active_resources_total` is a gauge).
    for (const [name, type] of before.types) {
      if (!name.startsWith('quorumq_')) continue;
      if (type === 'counter') expect(name, `counter ${name}`).toMatch(/_total$/);
      else expect(name, `${type} ${name}`).not.toMatch(/_total$/);
    }
    for (const name of ['quorumq_snapshots_taken_total', 'quorumq_disk_failures_total', 'quorumq_leader_changes_total', 'quorumq_queue_enqueued_total']) {
      expect(before.types.get(name), name).toBe('counter');
    }
    expect(before.samples.get(series('quorumq_queue_enqueued_total'))).toBe(5);
    expect(before.samples.get('quorumq_leader_changes_total')).toBeGreaterThanOrEqual(1);
    expect(before.samples.get(series('quorumq_queue_oldest_ready_age_seconds'))).toBeGreaterThanOrEqual(0);
    expect(before.samples.get(series('quorumq_queue_nacked_total'))).toBe(0);
    expect(before.types.get('quorumq_queue_lease_expired_total')).toBe('counter');
    expect(before.types.get('quorumq_queue_expired_total')).toBe('counter');
    expect(before.samples.get('quorumq_cluster_version')).toBe(2);
    // On the leader, each member's lag behind the commit index.
    const lags = [...before.samples.keys()].filter((key) => key.startsWith('quorumq_replication_lag_entries{'));
    expect(lags).toHaveLength(3);
    const received = await test.request(leader, 'POST', '/queues/measured/receive', { max: 3 });
    const receipts: string[] = received.body.messages.map((message: { receipt: string }) => message.receipt);
    await test.request(leader, 'POST', '/queues/measured/ack', { receipts: receipts.slice(0, 2) });
    await test.request(leader, 'POST', '/queues/measured/nack', { receipts: receipts.slice(2), delayMs: 0 });
    await test.enqueue(leader, 'measured', { n: 5 }, 'measured-5');
    const after = await waitFor(
      async () => {
        const next = await scrape(leader);
        return next.samples.get(series('quorumq_queue_acked_total')) === 2 ? next : undefined;
      },
      10_000,
      'the acks counted',
    );
    for (const [series, value] of before.samples) {
      const name = series.split('{')[0]!;
      if (before.types.get(name) !== 'counter' || !after.samples.has(series)) continue;
      expect(after.samples.get(series), series).toBeGreaterThanOrEqual(value);
    }
    expect(after.samples.get(series('quorumq_queue_enqueued_total'))).toBe(6);
    expect(after.samples.get(series('quorumq_queue_nacked_total'))).toBe(1);
  });

  it('answers /livez whenever the process answers, and /readyz as /health', async () => {
    await test.waitForLeader();
    const live = await test.request(1, 'GET', '/livez');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await test.request(1, 'GET', '/readyz');
    const health = await test.request(1, 'GET', '/health');
    expect(ready.status).toBe(health.status);
    expect(ready.body.status).toBe(health.body.status);
  });
});
