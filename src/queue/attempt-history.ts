import { type AttemptRecord, assert } from '../shared/index.ts';
import { QUEUE_LIMITS } from './queue-config.ts';

/**
 * The record of a delivery that just ended. An error longer than the limit is cut rather than
 * refused: validation refuses it before the log, and a replica must never crash replaying an entry.
 */
export function endedAttempt(
  message: { readonly attempt: number; readonly deliveredAt: number },
  outcome: AttemptRecord['outcome'],
  endedAt: number,
  error?: string,
): AttemptRecord {
  assert(message.attempt >= 1, 'only a delivered message has an attempt to end');
  assert(endedAt >= message.deliveredAt, 'an attempt ends after it began');
  const { attempt, deliveredAt } = message;
  // Two plain literals, not a spread: a message keeps up to ten of these, and V8 makes an object
  // built by spreading several times larger.
  if (error === undefined) return { attempt, deliveredAt, outcome, endedAt };
  return { attempt, deliveredAt, outcome, endedAt, error: error.slice(0, QUEUE_LIMITS.errorLengthMax) };
}

/** The history of a message never delivered, shared: histories are replaced, never changed in place. */
export const NO_ATTEMPTS: readonly AttemptRecord[] = Object.freeze([]);

/**
 * The history with one more ended attempt, keeping only the most recent ones so that a message
 * retried forever holds a bounded history. A new array: histories are shared with dead letters
 * and remembered records, never changed in place.
 */
export function withAttempt(history: readonly AttemptRecord[], ended: AttemptRecord): readonly AttemptRecord[] {
  const max = QUEUE_LIMITS.attemptHistoryMax;
  const kept = history.length >= max ? history.slice(history.length - max + 1) : history;
  // concat allocates what it needs; an array spread leaves room to grow that a history never uses.
  const next = kept.concat([ended]);
  assert(next.length <= max, 'attempt history over its bound');
  return next;
}
