import type { Logger } from 'pino';
import type { QueueConfigInput, WriteRequest } from '../../shared/index.ts';

export interface ConfiguredQueuesOptions {
  /** Queue name to config, from the config file's `queues` (already checked like a PUT /queues/:q body). */
  readonly queues: Readonly<Record<string, QueueConfigInput>>;
  /** The node's own request path: a write goes to the leader as any client's would. */
  readonly write: (request: WriteRequest) => Promise<unknown>;
  /** After a failed attempt, the first wait before the next, doubling up to the longest. */
  readonly retryFirstMs: number;
  readonly retryMaxMs: number;
  readonly log: Logger;
}

/**
 * Applies the config file's queue definitions once the node knows a leader: one configure per
 * queue, through the node's request path, each retried until it succeeds or the node stops.
 * Configure is idempotent (it sets the fields given and leaves the others), so every node applying
 * the same file, and applying it again at each start, changes nothing after the first.
 */
export class ConfiguredQueues {
  private started = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;

  constructor(private readonly options: ConfiguredQueuesOptions) {}

  /** The node has learnt of a leader: the first time, start applying; later, nothing to do. */
  onLeaderKnown(): void {
    if (this.started || this.stopped || Object.keys(this.options.queues).length === 0) return;
    this.started = true;
    void this.applyAll();
  }

  /** Gives up what is left: the node is stopping. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
  }

  private async applyAll(): Promise<void> {
    for (const [queue, config] of Object.entries(this.options.queues)) {
      const applied = await this.apply(queue, config);
      if (!applied) return;
    }
    this.options.log.info({ queues: Object.keys(this.options.queues) }, 'queues from the config file applied');
  }

  /** True once the queue is configured; false when the node stopped first. */
  private async apply(queue: string, config: QueueConfigInput): Promise<boolean> {
    let waitMs = this.options.retryFirstMs;
    // Bounded by the node's life: each failure waits longer, up to retryMaxMs, until stop().
    while (!this.stopped) {
      try {
        const result = await this.options.write({ op: 'configure', queue, config });
        this.options.log.info({ queue, config, result }, 'queue configured from the config file');
        return true;
      } catch (error) {
        if (this.stopped) break;
        const reason = error instanceof Error ? error.message : String(error);
        this.options.log.warn({ queue, reason, retryInMs: waitMs }, 'configuring a queue from the config file failed; retrying');
        await this.sleep(waitMs);
        waitMs = Math.min(waitMs * 2, this.options.retryMaxMs);
      }
    }
    return false;
  }

  private sleep(milliseconds: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = setTimeout(resolve, milliseconds);
    });
  }
}
