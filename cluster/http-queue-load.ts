import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Moves messages through one queue over plain HTTP/JSON, as an operator's script would: the
 * measurement of data-directory growth is the operator's (batches over HTTP, a small backlog).
 */
export class HttpQueueLoad {
  constructor(
    private readonly address: string,
    private readonly queue: string,
    /** Messages per enqueue request, and most per receive (the contract allows 1..1000). */
    private readonly batch: number,
  ) {}

  async enqueue(bodies: readonly unknown[]): Promise<void> {
    await this.post('messages', { messages: bodies.map((body) => ({ body })) });
  }

  /** Receives up to a batch and acks it; says how many were acked. */
  async receiveAndAck(waitMs = 200): Promise<number> {
    const { messages } = (await this.post('receive', { max: Math.min(this.batch, 1000), waitMs })) as { messages: { receipt: string }[] };
    if (messages.length === 0) return 0;
    return ((await this.post('ack', { receipts: messages.map((message) => message.receipt) })) as { acked: number }).acked;
  }

  /**
   * A 503 (no leader yet, an election) is retried after its Retry-After, for up to `retryForMs`: a
   * load that stops at the first election measures the election, not the disk. A 504 is not retried
   * (the outcome is unknown), nor is anything else.
   */
  private async post(path: string, payload: unknown, retryForMs = 30_000): Promise<unknown> {
    const deadline = Date.now() + retryForMs;
    for (;;) {
      const response = await fetch(`http://${this.address}/queues/${this.queue}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      if (response.ok) return response.json();
      const text = await response.text();
      if (response.status !== 503 || Date.now() > deadline) throw new Error(`POST ${path}: ${response.status} ${text}`);
      const retryAfterSeconds = Number(response.headers.get('retry-after') ?? '0.1');
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(50, retryAfterSeconds * 1000))));
    }
  }
}

/** Bytes of the files under `directory` (what `du` counts, without depending on it); files that vanish mid-walk count 0. */
export function directoryBytes(directory: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(directory, name);
    try {
      const stats = statSync(path);
      total += stats.isDirectory() ? directoryBytes(path) : stats.size;
    } catch {
      // LevelDB deleted it between the listing and the stat: it takes no room any more.
    }
  }
  return total;
}
