import { ClusterError, type ErrorCode, RETRYABLE_CODES } from '../shared/index.ts';

/** Every failure the SDK reports: a stable `code`, and whether sending again is safe. */
export class QuorumqError extends ClusterError<ErrorCode> {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, message, { retryable: RETRYABLE_CODES.has(code), cause });
    this.name = 'QuorumqError';
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
