import type { ErrorCode } from '../shared/index.ts';
import { QuorumqError } from './client-errors.ts';

/** Codes after which a request that was sent may or may not have been applied. */
const UNKNOWN_OUTCOME: ReadonlySet<ErrorCode> = new Set(['TIMEOUT', 'UNAVAILABLE', 'SHUTTING_DOWN', 'INTERNAL']);

export interface FailedAttempt {
  readonly error: QuorumqError;
  /** The request left the client in this attempt (a failed connect never sent it). */
  readonly sent: boolean;
}

/**
 * The error a retried call reports. A definite refusal on the last attempt does not make the call
 * a definite failure if an earlier attempt was sent and its outcome is unknown: that attempt may
 * have been applied, so the caller must hear "unknown" (TIMEOUT), never "failed" (RELIABILITY R16).
 */
export function failureOf(attempts: readonly FailedAttempt[]): QuorumqError {
  const last = attempts[attempts.length - 1];
  if (last === undefined) return new QuorumqError('INTERNAL', 'a call failed without an attempt');
  if (UNKNOWN_OUTCOME.has(last.error.code)) return last.error;
  const uncertain = attempts.slice(0, -1).some((attempt) => attempt.sent && UNKNOWN_OUTCOME.has(attempt.error.code));
  if (!uncertain) return last.error;
  return new QuorumqError(
    'TIMEOUT',
    `the outcome is unknown: an earlier attempt may have been applied (last answer: ${last.error.code}: ${last.error.message})`,
    last.error,
  );
}
