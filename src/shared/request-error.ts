import type { ErrorCode } from './client-protocol.ts';
import { RETRYABLE_CODES } from './client-protocol.ts';
import { ClusterError } from './errors.ts';

/** An error a client sees: a stable code, words for a human, and when to retry if it may. */
export class RequestError extends ClusterError<ErrorCode> {
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, retryAfterMs?: number) {
    super(code, message, { retryable: RETRYABLE_CODES.has(code) });
    this.name = 'RequestError';
    this.retryAfterMs = retryAfterMs;
  }
}
