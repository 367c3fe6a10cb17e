import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseLostError, type MessageHandler, type Settled, type Targets, Worker, type WorkerClient } from '../../../src/client/index.ts';
import type { DeliveredMessage } from '../../../src/shared/index.ts';

// Goal: the Worker's own logic, against a stand-in client: results go with acks, failures nack
// without a delay of their own, concurrency holds, leases of long jobs are extended, and close()
// drains what runs and gives back what does not.
const message = (id: string): DeliveredMessage => ({ id, seq: 1, receipt: `${id}:1`, body: { id }, attempt: 1, priority: 0, enqueuedAt: 0 });

class FakeClient implements WorkerClient {
  handler: MessageHandler | undefined;
  unsubscribed = false;
  readonly acks: { receipts: readonly string[]; results: readonly unknown[] | undefined }[] = [];
  readonly nacks: { receipts: readonly string[]; delayMs: number | undefined; error: string | undefined }[] = [];
  readonly extensions: { receipts: readonly string[]; visibilityMs: number }[] = [];
  /** Message ids whose leases the queue refuses to extend. */
  readonly lostLeases = new Set<string>();

  async subscribe(_queue: string, handler: MessageHandler): Promise<{ close(): Promise<void> }> {
    this.handler = handler;
    return { close: async () => void (this.unsubscribed = true) };
  }

  async ack(_queue: string, targets: Targets, options: { results?: readonly unknown[] } = {}): Promise<Settled> {
    this.acks.push({ receipts: targets.receipts ?? [], results: options.results });
    return { count: targets.receipts?.length ?? 0, rejected: [] };
  }

  async nack(_queue: string, targets: Targets, options: { delayMs?: number; error?: string } = {}): Promise<Settled> {
    this.nacks.push({ receipts: targets.receipts ?? [], delayMs: options.delayMs, error: options.error });
    return { count: targets.receipts?.length ?? 0, rejected: [] };
  }

  async extend(_queue: string, targets: Targets, visibilityMs: number): Promise<Settled> {
    const receipts = targets.receipts ?? [];
    this.extensions.push({ receipts, visibilityMs });
    const rejected = receipts.map((receipt) => receipt.split(':')[0]!).filter((id) => this.lostLeases.has(id));
    return { count: receipts.length - rejected.length, rejected: rejected.map((id) => ({ id, code: 'LEASE_EXPIRED' })) };
  }

  deliver(...messages: DeliveredMessage[]): void {
    for (const delivered of messages) void this.handler!(delivered);
  }
}

/** A processor's job that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function started(client: FakeClient, worker: Worker<unknown, unknown>): Promise<void> {
  await worker.waitUntilReady();
  expect(client.handler).toBeDefined();
}

describe('the Worker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('acks a job with what its processor returned and emits completed', async () => {
    const client = new FakeClient();
    const worker = new Worker(client, 'jobs', async (job) => ({ doubled: (job.data as { id: string }).id.repeat(2) }));
    const completed = vi.fn();
    worker.on('completed', completed);
    await started(client, worker);
    client.deliver(message('a'));
    await vi.waitFor(() => expect(completed).toHaveBeenCalledOnce());
    expect(client.acks).toEqual([{ receipts: ['a:1'], results: [{ doubled: 'aa' }] }]);
    expect(completed.mock.calls[0]![0]).toMatchObject({ id: 'a', queue: 'jobs', data: { id: 'a' }, attempt: 1 });
    await worker.close();
  });

  it('nacks a job whose processor threw, with its message and no delay, so the queue backoff applies', async () => {
    const client = new FakeClient();
    const worker = new Worker(client, 'jobs', async () => {
      throw new Error('broken');
    });
    const failed = vi.fn();
    worker.on('failed', failed);
    await started(client, worker);
    client.deliver(message('a'));
    await vi.waitFor(() => expect(failed).toHaveBeenCalledOnce());
    expect(client.nacks).toEqual([{ receipts: ['a:1'], delayMs: undefined, error: 'broken' }]);
    expect((failed.mock.calls[0]![1] as Error).message).toBe('broken');
    expect(client.acks).toHaveLength(0);
    await worker.close();
  });

  it('runs at most `concurrency` jobs at once and starts a waiting one when a slot frees', async () => {
    const client = new FakeClient();
    const gates = new Map(['a', 'b', 'c'].map((id) => [id, gate()]));
    const running = new Set<string>();
    let mostRunning = 0;
    const worker = new Worker(
      client,
      'jobs',
      async (job) => {
        running.add(job.id);
        mostRunning = Math.max(mostRunning, running.size);
        await gates.get(job.id)!.promise;
        running.delete(job.id);
      },
      { concurrency: 2 },
    );
    await started(client, worker);
    client.deliver(message('a'), message('b'), message('c'));
    await vi.waitFor(() => expect([...running].sort()).toEqual(['a', 'b']));
    gates.get('a')!.open();
    await vi.waitFor(() => expect([...running].sort()).toEqual(['b', 'c']));
    gates.get('b')!.open();
    gates.get('c')!.open();
    await vi.waitFor(() => expect(client.acks).toHaveLength(3));
    expect(mostRunning).toBe(2);
    await worker.close();
  });

  it('extends the lease of a long job about every third of its visibility, and stops once it is done', async () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const job = gate();
    const worker = new Worker(client, 'jobs', () => job.promise, { visibilityMs: 3000 });
    await started(client, worker);
    client.deliver(message('a'));
    await vi.advanceTimersByTimeAsync(999);
    expect(client.extensions).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.extensions).toEqual([{ receipts: ['a:1'], visibilityMs: 3000 }]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(client.extensions.length).toBeGreaterThanOrEqual(3);
    job.open();
    await vi.advanceTimersByTimeAsync(0);
    const extendedBeforeAck = client.extensions.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.extensions).toHaveLength(extendedBeforeAck);
    expect(client.acks).toHaveLength(1);
    await worker.close();
  });

  it('reports a lease the queue refused to extend and does not ack that job', async () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    client.lostLeases.add('a');
    const job = gate();
    const worker = new Worker(client, 'jobs', () => job.promise, { visibilityMs: 3000 });
    const errors: Error[] = [];
    worker.on('error', (error) => errors.push(error));
    await started(client, worker);
    client.deliver(message('a'));
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors[0]).toBeInstanceOf(LeaseLostError);
    job.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.acks).toHaveLength(0);
    await worker.close();
  });

  it('on close, waits for running jobs, gives back those not started and those delivered later', async () => {
    const client = new FakeClient();
    const job = gate();
    const worker = new Worker(
      client,
      'jobs',
      async () => {
        await job.promise;
        return 'done';
      },
      { concurrency: 1 },
    );
    await started(client, worker);
    client.deliver(message('running'), message('waiting'));
    let closed = false;
    const closing = worker.close().then(() => (closed = true));
    await vi.waitFor(() => expect(client.unsubscribed).toBe(true));
    await vi.waitFor(() => expect(client.nacks).toEqual([{ receipts: ['waiting:1'], delayMs: 0, error: undefined }]));
    client.deliver(message('late'));
    await vi.waitFor(() => expect(client.nacks).toHaveLength(2));
    expect(client.nacks[1]).toMatchObject({ receipts: ['late:1'], delayMs: 0 });
    expect(closed).toBe(false);
    job.open();
    await closing;
    expect(client.acks).toEqual([{ receipts: ['running:1'], results: ['done'] }]);
    expect(worker.jobsHeld).toBe(0);
  });

  it('gives back a job still running when the close timeout ends, and never acks it', async () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const job = gate();
    const worker = new Worker(client, 'jobs', () => job.promise, { closeTimeoutMs: 2000 });
    await started(client, worker);
    client.deliver(message('slow'));
    const closing = worker.close();
    await vi.advanceTimersByTimeAsync(2000);
    await closing;
    expect(client.nacks).toEqual([{ receipts: ['slow:1'], delayMs: 0, error: undefined }]);
    job.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.acks).toHaveLength(0);
  });

  it('refuses options under which an extension could not land inside the lease', () => {
    const client = new FakeClient();
    expect(() => new Worker(client, 'jobs', async () => undefined, { visibilityMs: 3000, extendEveryMs: 2000 })).toThrow(/extendEveryMs/);
    expect(() => new Worker(client, 'jobs', async () => undefined, { concurrency: 0 })).toThrow(/concurrency/);
  });
});
