import { ClusterError, type ErrorCode, RETRYABLE_CODES } from '../shared/index.ts';

/** Every failure the SDK reports: a stable `code`, and whether sending again is safe. */
export class QuorumqError extends ClusterError<ErrorCode> {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, message, { retryable: RETRYABLE_CODES.has(code), cause });
    this.name = 'QuorumqError';
  }
}
