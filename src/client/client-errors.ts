import { ClusterError, type ErrorCode, RETRYABLE_CODES } from '../shared/index.ts';

/** The longest `retryAfterMs` the SDK takes from a node: a larger one (a node's bug, or not a node) is cut to this. */
export const RETRY_AFTER_MS_MAX = 30_000;

/**
 * Every failure the SDK reports: a stable `code`, whether sending again is safe, and, when the
 * node said so, how long to wait before asking again (`retryAfterMs`, at most RETRY_AFTER_MS_MAX).
 */
export class QuorumqError extends ClusterError<ErrorCode> {
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, cause?: unknown, retryAfterMs?: number) {
    super(code, message, { retryable: RETRYABLE_CODES.has(code), cause });
    this.name = 'QuorumqError';
    const valid = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0;
    this.retryAfterMs = valid ? Math.min(retryAfterMs, RETRY_AFTER_MS_MAX) : undefined;
  }
}

/**
 * A job's lease ended before the worker could settle it (it ran past its visibility, or the lease
 * could not be extended): the queue may already have handed the job to another consumer.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly jobId: string,
    readonly code: string,
  ) {
    super(`the lease on job ${jobId} was lost (${code}); the job may run again elsewhere`);
    this.name = 'LeaseLostError';
  }
}

/**
 * A job's processor did not settle within the worker's `processTimeoutMs`: the job failed, and was
 * nacked like any failure (the queue's backoff, `maxDeliveries` and dead-letter queue apply). The
 * processor is not stopped (a promise cannot be cancelled): `job.signal` is aborted with this error
 * for a processor that wants to stop its work.
 */
export class JobTimeoutError extends Error {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} ran longer than its processTimeoutMs of ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/** Whatever was thrown, as an Error (a processor may throw anything). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
