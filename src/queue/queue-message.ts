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
