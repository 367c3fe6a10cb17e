import type { QuorumqClient } from '../../src/client/index.ts';
import { waitFor } from './cluster-harness.ts';

/**
 * One producer of unique values (each with its own dedupId, as a user retrying would send) and one
 * consumer that receives and acks, through one SDK client, until stopped: what a cluster under a
 * rolling operation serves. Every failed client operation is kept, to be asserted empty.
 */
export class SteadyLoad {
  readonly failures: string[] = [];
  readonly enqueued = new Set<string>();
  readonly received = new Set<string>();
  private producing = true;
  private consuming = true;
  private readonly producer: Promise<void>;
  private readonly consumer: Promise<void>;

  constructor(
    private readonly client: QuorumqClient,
    private readonly queue: string,
  ) {
    this.producer = this.produce();
    this.consumer = this.consume();
  }

  /** Enqueued values not received (yet). */
  missing(): string[] {
    return [...this.enqueued].filter((value) => !this.received.has(value));
  }

  /** Stops producing, then waits until every enqueued value has been received. */
  async finish(timeoutMs = 30_000): Promise<void> {
    this.producing = false;
    await this.producer;
    await waitFor(async () => (this.missing().length === 0 ? true : undefined), timeoutMs, 'every enqueued message delivered');
  }

  async stop(): Promise<void> {
    this.producing = false;
    this.consuming = false;
    await Promise.allSettled([this.producer, this.consumer]);
  }

  private async produce(): Promise<void> {
    for (let n = 0; this.producing; n++) {
      try {
        await this.client.enqueue(this.queue, `v${n}`, { dedupId: `v${n}` });
        this.enqueued.add(`v${n}`);
      } catch (error) {
        this.failures.push(`enqueue v${n}: ${String(error)}`);
      }
    }
  }

  private async consume(): Promise<void> {
    while (this.consuming) {
      try {
        const deliveries = await this.client.receive(this.queue, { max: 50, waitMs: 300, visibilityMs: 5000 });
        for (const delivery of deliveries) this.received.add(delivery.body as string);
        if (deliveries.length > 0) await this.client.ack(this.queue, { receipts: deliveries.map((delivery) => delivery.receipt) });
      } catch (error) {
        this.failures.push(`consume: ${String(error)}`);
      }
    }
  }
}
