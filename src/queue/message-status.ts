import { AssertionError, type AttemptRecord, assert, type DeadLetterOrigin, receiptOf } from '../shared/index.ts';
import type { StoredMessage } from './queue-message.ts';
import type { RetainedRecord } from './retained-records.ts';

interface StatusBase {
  readonly id: string;
  readonly seq: number;
  readonly attempt: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly history: readonly AttemptRecord[];
  /** Only when the message has a TTL. */
  readonly expiresAt?: number;
  /** Only on a message that is, or was, in a dead-letter queue. */
  readonly deadLetter?: DeadLetterOrigin;
}

/** What `GET /queues/:q/messages/:id` answers: the fields of the message's state. */
export type MessageStatus =
  | (StatusBase & { readonly state: 'ready' })
  | (StatusBase & { readonly state: 'delayed'; readonly availableAt: number })
  | (StatusBase & { readonly state: 'inflight'; readonly leaseDeadline: number; readonly receipt: string; readonly deliveredAt: number })
  | AckedStatus
  | DeadStatus;

/** `result` only when the ack carried one. */
export type AckedStatus = StatusBase & { readonly state: 'acked'; readonly ackedAt: number; readonly result?: unknown };

export type DeadStatus = StatusBase & {
  readonly state: 'dead';
  readonly deadAt: number;
  readonly deadReason: DeadLetterOrigin['reason'];
  /** Where the message went, and its id there. */
  readonly deadLetterQueue: string;
  readonly deadLetterId: string;
};

export function describeMessage(message: StoredMessage): MessageStatus {
  const base = statusBase(message);
  switch (message.state) {
    case 'ready':
      return { ...base, state: 'ready' };
    case 'delayed':
      return { ...base, state: 'delayed', availableAt: message.availableAt };
    case 'inflight':
      return { ...base, state: 'inflight', leaseDeadline: message.leaseDeadline, receipt: receiptOf(message), deliveredAt: message.deliveredAt };
    default:
      throw new AssertionError('an unplaced message has no status');
  }
}

/** A remembered acked or dead message, in the shape of the status route. */
export function describeRetained(record: RetainedRecord): AckedStatus | DeadStatus {
  const base = statusBase(record);
  if (record.state === 'acked') {
    const acked = { ...base, state: 'acked' as const, ackedAt: record.at };
    return record.result === undefined ? acked : { ...acked, result: record.result };
  }
  assert(record.deadReason !== undefined && record.deadLetterQueue !== undefined && record.deadLetterId !== undefined, 'a dead record says where it went');
  return {
    ...base,
    state: 'dead',
    deadAt: record.at,
    deadReason: record.deadReason,
    deadLetterQueue: record.deadLetterQueue,
    deadLetterId: record.deadLetterId,
  };
}

/** The fields every state shares; the body is never part of a status. */
function statusBase(message: StoredMessage | RetainedRecord): StatusBase {
  const base = {
    id: message.id,
    seq: message.seq,
    attempt: message.attempt,
    priority: message.priority,
    enqueuedAt: message.enqueuedAt,
    history: message.history,
  };
  const expiry = message.expiresAt > 0 ? { expiresAt: message.expiresAt } : {};
  return message.deadLetter === undefined ? { ...base, ...expiry } : { ...base, ...expiry, deadLetter: message.deadLetter };
}
