import { ClusterError, type ErrorCode, RETRYABLE_CODES } from '../shared/index.ts';

/** Every failure the SDK reports: a stable `code`, and whether sending again is safe. */
export class QuorumqError extends ClusterError<ErrorCode> {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, message, { retryable: RETRYABLE_CODES.has(code), cause });
    this.name = 'QuorumqError';
  }
}

/** Whatever was thrown, as an Error (a processor may throw anything). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
