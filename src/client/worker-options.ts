import type { DeliveredMessage } from '../shared/index.ts';
import { QuorumqError } from './client-errors.ts';
import type { AckOptions, NackOptions, Settled, Targets } from './quorumq-client.ts';
import type { MessageHandler, SubscribeOptions } from './subscription.ts';

/** One message as a worker's processor sees it. */
export interface Job<Data = unknown> {
  readonly id: string;
  readonly queue: string;
  /** The message body, as enqueued; `Data` is the caller's word for its shape, not checked. */
  readonly data: Data;
  /** 1 on the first delivery, 2 on the first retry, and so on. */
  readonly attempt: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly deadLetter?: DeliveredMessage['deadLetter'];
  /** Aborted, with a `JobTimeoutError`, when the job runs past `processTimeoutMs`: its outcome no longer counts. */
  readonly signal: AbortSignal;
}

export type Processor<Data, Result> = (job: Job<Data>) => Promise<Result>;

export interface WorkerOptions {
  /** Jobs processed at once, and the subscription's prefetch: 1 to 1000 (1). */
  readonly concurrency?: number;
  /** Each lease's length (30000). */
  readonly visibilityMs?: number;
  /** How often a running job's lease is extended (a third of `visibilityMs`). */
  readonly extendEveryMs?: number;
  /** How long `close()` waits for running jobs before giving them back (30000). */
  readonly closeTimeoutMs?: number;
  /**
   * A job whose processor has not settled after this long fails with a `JobTimeoutError` and is
   * nacked like any failure, so the queue's backoff, `maxDeliveries` and dead-letter queue apply
   * (0, the default: no limit). The processor is not stopped, as no promise can be: it gets
   * `job.signal`, aborted at the timeout, and whatever it returns or throws later is ignored; its
   * slot is free for the next job at once. A processor that holds the event loop (synchronous work)
   * cannot be interrupted at all, nor can the timer fire while it runs: the timeout is checked when
   * the loop is free again, and a job that settled past it fails all the same.
   */
  readonly processTimeoutMs?: number;
}

export type WorkerSettings = Required<WorkerOptions>;

/** The events a worker emits, with their arguments. */
export type WorkerEvents<Data, Result> = {
  /** The processor returned and its result went with the ack. */
  completed: [job: Job<Data>, result: Result];
  /** The processor threw or ran past `processTimeoutMs` (a `JobTimeoutError`); the job went back to the queue, to be retried after its backoff. */
  failed: [job: Job<Data>, error: Error];
  /** Trouble in the background: a lost lease, an ack or extension that did not go through. */
  error: [error: Error];
};

/** What a worker needs of a client: a QuorumqClient, or a stand-in in tests. */
export interface WorkerClient {
  subscribe(queue: string, handler: MessageHandler, options: SubscribeOptions): Promise<{ close(): Promise<void> }>;
  ack(queue: string, targets: Targets, options?: AckOptions): Promise<Settled>;
  nack(queue: string, targets: Targets, options?: NackOptions): Promise<Settled>;
  extend(queue: string, targets: Targets, visibilityMs: number): Promise<Settled>;
}

const CONCURRENCY_MAX = 1000;
const EXTEND_EVERY_MS_MIN = 100;
/** setTimeout's own limit (about 24.8 days); a longer timer would fire at once. */
const PROCESS_TIMEOUT_MS_MAX = 2 ** 31 - 1;

/** The options with their defaults, checked together: an extension must come well within a lease. */
export function workerSettings(options: WorkerOptions): WorkerSettings {
  const visibilityMs = options.visibilityMs ?? 30_000;
  const settings: WorkerSettings = {
    concurrency: options.concurrency ?? 1,
    visibilityMs,
    extendEveryMs: options.extendEveryMs ?? Math.max(EXTEND_EVERY_MS_MIN, Math.floor(visibilityMs / 3)),
    closeTimeoutMs: options.closeTimeoutMs ?? 30_000,
    processTimeoutMs: options.processTimeoutMs ?? 0,
  };
  const problems: string[] = [];
  if (!Number.isInteger(settings.concurrency) || settings.concurrency < 1 || settings.concurrency > CONCURRENCY_MAX) {
    problems.push(`concurrency must be an integer from 1 to ${CONCURRENCY_MAX}`);
  }
  if (!Number.isInteger(visibilityMs) || visibilityMs < 1) problems.push('visibilityMs must be a positive integer');
  // Extensions come every extendEveryMs, give or take half of it: they must land inside the lease.
  if (!(settings.extendEveryMs >= EXTEND_EVERY_MS_MIN) || settings.extendEveryMs * 1.5 >= visibilityMs) {
    problems.push(`extendEveryMs must be at least ${EXTEND_EVERY_MS_MIN} and under two thirds of visibilityMs`);
  }
  if (!(settings.closeTimeoutMs >= 0)) problems.push('closeTimeoutMs must be 0 or more');
  if (!(settings.processTimeoutMs >= 0) || settings.processTimeoutMs > PROCESS_TIMEOUT_MS_MAX) {
    problems.push(`processTimeoutMs must be 0 (no limit) to ${PROCESS_TIMEOUT_MS_MAX}`);
  }
  if (problems.length > 0) throw new QuorumqError('BAD_REQUEST', problems.join('; '));
  return settings;
}
