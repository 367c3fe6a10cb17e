import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type QuorumqClient, Worker } from '../../src/client/index.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: a Worker on a real cluster loses no job when the leader is killed mid-run, retries a
// failing job until its queue's maxDeliveries sends it to the dead-letter queue, and lets running
// jobs finish when it closes.
describe('the Worker on a 3-node cluster', () => {
  const suite = clusterForSuite(3);
  let test: TestCluster;
  let client: QuorumqClient;
  let workers: { close(): Promise<void> }[] = [];

  beforeEach(() => {
    test = suite();
    client = connect({ nodes: test.cluster.nodes.map((node) => node.address), retryForMs: 60_000 });
  });

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    workers = [];
    client.close();
  });

  function track<Data, Result>(worker: Worker<Data, Result>): Worker<Data, Result> {
    workers.push(worker);
    return worker;
  }

  async function queueStats(queue: string): Promise<{ ready: number; inflight: number; delayed: number; dead: number }> {
    return waitFor(
      async () => {
        const reply = await test.request(await test.waitForLeader(), 'GET', `/queues/${queue}`);
        return reply.status === 200 ? reply.body : undefined;
      },
      20_000,
      `the stats of ${queue}`,
    );
  }

  it('completes every one of 10,000 jobs with concurrency 16 while the leader is killed and restarted', async () => {
    const total = 10_000;
    const batch = 1000;
    const ids = new Set<string>();
    for (let start = 0; start < total; start += batch) {
      const messages = Array.from({ length: batch }, (_, i) => ({ body: { n: start + i }, dedupId: `work-${start + i}` }));
      for (const id of (await client.enqueueBatch('work', messages)).ids) ids.add(id);
    }
    expect(ids.size).toBe(total);

    const runs = new Map<string, number>();
    const completed = new Set<string>();
    let wrongResults = 0;
    const began = performance.now();
    const worker = track(
      new Worker<{ n: number }, number>(
        client,
        'work',
        async (job) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          return job.data.n * 2;
        },
        { concurrency: 16, visibilityMs: 5000 },
      ),
    );
    worker.on('completed', (job, result) => {
      completed.add(job.id);
      if (result !== job.data.n * 2) wrongResults++;
    });
    worker.on('error', () => undefined);

    await waitFor(async () => (completed.size >= total * 0.3 ? true : undefined), 60_000, '30% of the jobs before the kill');
    const leader = await test.waitForLeader();
    const host = await test.subscriptionHost();
    await test.cluster.kill(leader, 'SIGKILL');
    const killedAt = completed.size;
    const newLeader = await test.waitForLeader();
    test.cluster.start(leader);
    await waitFor(async () => (completed.size === total ? true : undefined), 90_000, `all ${total} jobs completed`);
    const seconds = (performance.now() - began) / 1000;

    const missing = [...ids].filter((id) => !completed.has(id));
    const duplicates = [...runs.values()].reduce((sum, count) => sum + count - 1, 0);
    const where = host === leader ? 'on the killed leader' : 'on a follower';
    console.info(
      `worker (subscribed ${where}): ${total} jobs in ${seconds.toFixed(1)} s, leader killed after ${killedAt} (new leader: node ${newLeader}), ${duplicates} duplicate runs`,
    );
    expect(missing).toEqual([]);
    expect(wrongResults).toBe(0);
    await worker.close();
    const stats = await waitFor(
      async () => {
        const current = await queueStats('work');
        return current.ready + current.inflight + current.delayed === 0 ? current : undefined;
      },
      20_000,
      'an empty queue',
    );
    expect(stats.dead).toBe(0);
  });

  it('retries a failing job and, after maxDeliveries, leaves it in the dead-letter queue', async () => {
    const configured = await test.request(0, 'PUT', '/queues/flaky', { maxDeliveries: 3, backoff: { baseMs: 50, maxMs: 200 } });
    expect(configured.status).toBeLessThan(300);
    const { id: poison } = await client.enqueue('flaky', { poison: true });
    const { id: healthy } = await client.enqueue('flaky', { poison: false });
    const failures: { id: string; attempt: number; message: string }[] = [];
    const completed: string[] = [];
    const worker = track(
      new Worker<{ poison: boolean }, string>(
        client,
        'flaky',
        async (job) => {
          if (job.data.poison) throw new Error(`attempt ${job.attempt} failed`);
          return 'fine';
        },
        { concurrency: 2, visibilityMs: 10_000 },
      ),
    );
    worker.on('failed', (job, error) => failures.push({ id: job.id, attempt: job.attempt, message: error.message }));
    worker.on('completed', (job) => completed.push(job.id));
    await waitFor(async () => (failures.length >= 3 && completed.length === 1 ? true : undefined), 30_000, 'three failed attempts and one completed job');
    expect(failures).toEqual([1, 2, 3].map((attempt) => ({ id: poison, attempt, message: `attempt ${attempt} failed` })));
    expect(completed).toEqual([healthy]);
    const dead = await waitFor(
      async () => {
        const reply = await test.request(0, 'POST', '/queues/flaky.dlq/receive', { waitMs: 1000 });
        return reply.body?.messages?.[0];
      },
      20_000,
      'the poison job in flaky.dlq',
    );
    expect(dead).toMatchObject({ body: { poison: true }, deadLetter: { queue: 'flaky', id: poison, reason: 'maxDeliveries', attempts: 3 } });
  });

  it('on close, lets running jobs finish and settle, and takes no new ones', async () => {
    for (let i = 0; i < 4; i++) await client.enqueue('drain', { n: i });
    const release: (() => void)[] = [];
    const started: number[] = [];
    const completed: number[] = [];
    const worker = track(
      new Worker<{ n: number }, number>(
        client,
        'drain',
        async (job) => {
          started.push(job.data.n);
          await new Promise<void>((resolve) => release.push(resolve));
          return job.data.n;
        },
        { concurrency: 2, visibilityMs: 30_000 },
      ),
    );
    worker.on('completed', (job) => completed.push(job.data.n));
    await waitFor(async () => (started.length === 2 ? true : undefined), 20_000, 'two running jobs');
    const closing = worker.close();
    for (const resolve of release) resolve();
    await closing;
    expect(completed.sort()).toEqual(started.sort());
    expect(started).toHaveLength(2);
    const stats = await queueStats('drain');
    expect(stats).toMatchObject({ ready: 2, inflight: 0 });
  });
});
