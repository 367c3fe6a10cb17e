import { describe, expect, it, vi } from 'vitest';
import { JobTimeoutError, type MessageHandler, type Settled, type Targets, Worker, type WorkerClient } from '../../../src/client/index.ts';
import type { DeliveredMessage } from '../../../src/shared/index.ts';

// Goal: a job running past the Worker's processTimeoutMs fails with a JobTimeoutError and is nacked
// like any failure (no delay of its own, so the queue's backoff and maxDeliveries apply), whether
// its processor awaits too long or holds the event loop too long; its late outcome is ignored.
const message = (id: string): DeliveredMessage => ({ id, seq: 1, receipt: `${id}:1`, body: { id }, attempt: 1, priority: 0, enqueuedAt: 0 });

class FakeClient implements WorkerClient {
  handler: MessageHandler | undefined;
  readonly acks: { receipts: readonly string[]; results: readonly unknown[] | undefined }[] = [];
  readonly nacks: { receipts: readonly string[]; delayMs: number | undefined; error: string | undefined }[] = [];

  async subscribe(_queue: string, handler: MessageHandler): Promise<{ close(): Promise<void> }> {
    this.handler = handler;
    return { close: async () => undefined };
  }

  async ack(_queue: string, targets: Targets, options: { results?: readonly unknown[] } = {}): Promise<Settled> {
    this.acks.push({ receipts: targets.receipts ?? [], results: options.results });
    return { count: targets.receipts?.length ?? 0, rejected: [] };
  }

  async nack(_queue: string, targets: Targets, options: { delayMs?: number; error?: string } = {}): Promise<Settled> {
    this.nacks.push({ receipts: targets.receipts ?? [], delayMs: options.delayMs, error: options.error });
    return { count: targets.receipts?.length ?? 0, rejected: [] };
  }

  async extend(_queue: string, targets: Targets): Promise<Settled> {
    return { count: targets.receipts?.length ?? 0, rejected: [] };
  }

  deliver(...messages: DeliveredMessage[]): void {
    for (const delivered of messages) void this.handler!(delivered);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // held: no timer can fire
  }
}

describe('the Worker with processTimeoutMs', () => {
  it('fails a job still running at the timeout, nacks it with the timeout error, aborts its signal and ignores its late result', async () => {
    const client = new FakeClient();
    const signals: AbortSignal[] = [];
    const started: string[] = [];
    const worker = new Worker(
      client,
      'jobs',
      async (job) => {
        started.push(job.id);
        signals.push(job.signal);
        await sleep(job.id === 'slow' ? 400 : 0);
        return job.id;
      },
      { processTimeoutMs: 100, concurrency: 1 },
    );
    const failed: [string, Error][] = [];
    const completed: string[] = [];
    worker.on('failed', (job, error) => failed.push([job.id, error]));
    worker.on('completed', (job) => completed.push(job.id));
    await worker.waitUntilReady();
    const deliveredAt = performance.now();
    client.deliver(message('slow'), message('next'));
    await vi.waitFor(() => expect(failed).toHaveLength(1));
    expect(performance.now() - deliveredAt).toBeLessThan(350);
    const [id, error] = failed[0]!;
    expect(id).toBe('slow');
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error).toMatchObject({ jobId: 'slow', timeoutMs: 100 });
    expect(client.nacks).toEqual([{ receipts: ['slow:1'], delayMs: undefined, error: error.message }]);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBe(error);
    // Its slot is free at once: the next job runs while the slow processor is still awaiting.
    await vi.waitFor(() => expect(completed).toEqual(['next']));
    await sleep(400);
    expect(client.acks).toEqual([{ receipts: ['next:1'], results: ['next'] }]);
    expect(started).toEqual(['slow', 'next']);
    await worker.close();
  });

  it('fails a job whose processor held the event loop past the timeout, once the loop is free', async () => {
    const client = new FakeClient();
    const worker = new Worker(
      client,
      'jobs',
      async () => {
        blockEventLoop(300);
        return 'too late';
      },
      { processTimeoutMs: 100 },
    );
    const failed: Error[] = [];
    worker.on('failed', (_job, error) => failed.push(error));
    await worker.waitUntilReady();
    client.deliver(message('blocking'));
    await vi.waitFor(() => expect(failed).toHaveLength(1));
    expect(failed[0]).toBeInstanceOf(JobTimeoutError);
    expect(client.nacks).toMatchObject([{ receipts: ['blocking:1'], delayMs: undefined }]);
    expect(client.acks).toHaveLength(0);
    await worker.close();
  });

  it('completes a job that settles within the timeout, and a thrown error stays the failure', async () => {
    const client = new FakeClient();
    const worker = new Worker(
      client,
      'jobs',
      async (job) => {
        await sleep(10);
        if (job.id === 'bad') throw new Error('broken');
        return 'fine';
      },
      { processTimeoutMs: 1000, concurrency: 2 },
    );
    const failed: Error[] = [];
    worker.on('failed', (_job, error) => failed.push(error));
    await worker.waitUntilReady();
    client.deliver(message('good'), message('bad'));
    await vi.waitFor(() => expect(client.acks.length + client.nacks.length).toBe(2));
    expect(client.acks).toEqual([{ receipts: ['good:1'], results: ['fine'] }]);
    expect(failed.map((error) => error.message)).toEqual(['broken']);
    await worker.close();
  });

  it('refuses a processTimeoutMs that is negative or longer than a timer can wait', () => {
    const client = new FakeClient();
    expect(() => new Worker(client, 'jobs', async () => undefined, { processTimeoutMs: -1 })).toThrow(/processTimeoutMs/);
    expect(() => new Worker(client, 'jobs', async () => undefined, { processTimeoutMs: 2 ** 31 })).toThrow(/processTimeoutMs/);
  });
});
