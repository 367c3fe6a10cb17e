import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, JobTimeoutError, type QuorumqClient, Worker } from '../../src/client/index.ts';
import { clusterForSuite, GiveUp, type TestCluster, waitFor } from './cluster-harness.ts';

/** Holds the event loop for `ms`, as a synchronous job does (resizing an image, parsing, compressing). */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no socket is served meanwhile
  }
}

// Goal: a Worker whose jobs block its event loop for seconds keeps its connection and its leases:
// every job runs once and is acked, instead of being handed back and run again forever (the SDK
// used to take its own stall for its node's silence and drop the connection after 0.8 s).
describe('a Worker whose jobs block its event loop, on a 3-node cluster', () => {
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

  it('completes each of 20 jobs that block the loop for 2 s exactly once', { timeout: 180_000 }, async () => {
    const total = 20;
    const { ids } = await client.enqueueBatch(
      'busy',
      Array.from({ length: total }, (_, n) => ({ body: { n } })),
    );
    const starts = new Map<string, number>();
    const acks = new Map<string, number>();
    const errors: string[] = [];
    const began = performance.now();
    // Concurrency 2: both jobs of a push run back to back in one turn, so the loop is held up to 4 s
    // at a time. One event loop runs a busy-wait one at a time whatever the concurrency: 20 × 2 s.
    const worker = new Worker<{ n: number }, number>(
      client,
      'busy',
      async (job) => {
        starts.set(job.id, (starts.get(job.id) ?? 0) + 1);
        blockEventLoop(2000);
        return job.data.n;
      },
      { concurrency: 2, visibilityMs: 30_000 },
    );
    workers.push(worker);
    worker.on('completed', (job) => acks.set(job.id, (acks.get(job.id) ?? 0) + 1));
    worker.on('error', (error) => errors.push(error.message));

    await waitFor(
      async () => {
        const again = [...starts].filter(([, count]) => count > 1);
        // Fails at the first job run twice rather than waiting out the timeout on a loop that never ends.
        if (again.length > 0) throw new GiveUp(`jobs started again: ${JSON.stringify(again)}; errors: ${JSON.stringify(errors)}`);
        return acks.size === total ? true : undefined;
      },
      120_000,
      `all ${total} jobs acked`,
    );
    const seconds = (performance.now() - began) / 1000;
    console.info(`blocked-loop worker: ${total} jobs of 2 s each in ${seconds.toFixed(1)} s; background errors: ${JSON.stringify(errors)}`);
    expect([...starts.keys()].sort()).toEqual([...ids].sort());
    expect([...starts.values()].every((count) => count === 1)).toBe(true);
    expect([...acks.values()].every((count) => count === 1)).toBe(true);
    await worker.close();
    // The cluster's own record: each message was delivered once (attempt 1) and acked.
    const leader = await test.waitForLeader();
    for (const id of ids) {
      const status = await test.request(leader, 'GET', `/queues/busy/messages/${id}`);
      expect(status.body).toMatchObject({ state: 'acked', attempt: 1 });
    }
  });

  it('keeps its connection and its job through a 12 s stall, longer than a busy client is promised', { timeout: 120_000 }, async () => {
    const { id } = await client.enqueue('stall', { long: true });
    let starts = 0;
    const errors: string[] = [];
    const worker = new Worker(
      client,
      'stall',
      async () => {
        starts++;
        blockEventLoop(12_000);
        return 'done';
      },
      { visibilityMs: 30_000 },
    );
    workers.push(worker);
    const completed: string[] = [];
    worker.on('completed', (job) => completed.push(job.id));
    worker.on('error', (error) => errors.push(error.message));
    await waitFor(
      async () => {
        if (starts > 1) throw new GiveUp(`the job started ${starts} times; errors: ${JSON.stringify(errors)}`);
        return completed.length > 0 ? true : undefined;
      },
      60_000,
      'the job acked',
    );
    // The node gave nothing back meanwhile: had either side dropped the connection, the lease would
    // have been released, the job delivered again (attempt 2) and its ack rejected.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect({ starts, completed, errors }).toEqual({ starts: 1, completed: [id], errors: [] });
    const status = await test.request(await test.waitForLeader(), 'GET', `/queues/stall/messages/${id}`);
    expect(status.body).toMatchObject({ state: 'acked', attempt: 1 });
  });

  it('fails a job that runs past processTimeoutMs and, after maxDeliveries, leaves it in the dead-letter queue', async () => {
    const configured = await test.request(0, 'PUT', '/queues/slow', { maxDeliveries: 2, backoff: { baseMs: 50, maxMs: 100 } });
    expect(configured.status).toBeLessThan(300);
    const { id } = await client.enqueue('slow', { slow: true });
    const failures: { attempt: number; error: Error }[] = [];
    const completed: string[] = [];
    const worker = new Worker<{ slow: boolean }, string>(
      client,
      'slow',
      async (job) => {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return `attempt ${job.attempt} finished late`;
      },
      { processTimeoutMs: 300, visibilityMs: 10_000 },
    );
    workers.push(worker);
    worker.on('failed', (job, error) => failures.push({ attempt: job.attempt, error }));
    worker.on('completed', (job) => completed.push(job.id));
    await waitFor(async () => (failures.length >= 2 ? true : undefined), 30_000, 'two timed-out attempts');
    expect(failures.map((failure) => failure.attempt)).toEqual([1, 2]);
    for (const { error } of failures) expect(error).toBeInstanceOf(JobTimeoutError);
    const dead = await waitFor(
      async () => {
        const reply = await test.request(0, 'POST', '/queues/slow.dlq/receive', { waitMs: 1000 });
        return reply.body?.messages?.[0];
      },
      20_000,
      'the timed-out job in slow.dlq',
    );
    expect(dead).toMatchObject({ body: { slow: true }, deadLetter: { queue: 'slow', id, reason: 'maxDeliveries', attempts: 2 } });
    const said = (dead.deadLetter.history as { outcome: string; error?: string }[]).map((attempt) => [attempt.outcome, attempt.error]);
    expect(said).toEqual([1, 2].map(() => ['nacked', `job ${id} ran longer than its processTimeoutMs of 300 ms`]));
    // The processors that finished late (2 s in) were not acked.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(completed).toEqual([]);
  });
});
