import type { AttemptRecord, DeadLetterOrigin } from '../shared/index.ts';

/** `new` only until the message is first placed: it is in no line and counted nowhere. */
export type MessageState = 'new' | 'ready' | 'delayed' | 'inflight';

export interface StoredMessage {
  readonly id: string;
  readonly seq: number;
  readonly body: unknown;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly bytes: number;
  /** Place in line, given when the message first joins it (at once, or when its delay ends), then kept. */
  position: number;
  state: MessageState;
  attempt: number;
  availableAt: number;
  leaseDeadline: number;
  /** When the current (or last) lease began. */
  deliveredAt: number;
  /** When the message leaves for the dead-letter queue if still waiting; 0 = never. */
  readonly expiresAt: number;
  /** The deliveries that ended, oldest first, at most QUEUE_LIMITS.attemptHistoryMax. */
  history: readonly AttemptRecord[];
  /** Set on a message in a dead-letter queue: where it came from and why. */
  readonly deadLetter?: DeadLetterOrigin;
}

/** A message that left its queue for the dead-letter queue; the machine places it there. */
export interface DeadLetter {
  readonly message: StoredMessage;
  readonly origin: DeadLetterOrigin;
}

/**
 * A copy of a message as it is now, for a snapshot encoded while the queue goes on changing it
 * (taken before the message first changes, see `SnapshotCapture`). Plain literals, not a spread: V8
 * makes a spread-built object several times larger, and a busy queue may change every message of
 * its backlog while a snapshot of it is encoded. A field added to `StoredMessage` is added here too.
 */
export function messageCopy(message: StoredMessage): StoredMessage {
  const { id, seq, body, priority, enqueuedAt, bytes, position, state, attempt, availableAt, leaseDeadline, deliveredAt, expiresAt, history, deadLetter } =
    message;
  if (deadLetter === undefined)
    return { id, seq, body, priority, enqueuedAt, bytes, position, state, attempt, availableAt, leaseDeadline, deliveredAt, expiresAt, history };
  return { id, seq, body, priority, enqueuedAt, bytes, position, state, attempt, availableAt, leaseDeadline, deliveredAt, expiresAt, history, deadLetter };
}
