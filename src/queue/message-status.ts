import { AssertionError, assert, type MessageStatusResult, receiptOf } from '../shared/index.ts';
import type { StoredMessage } from './queue-message.ts';
import type { RetainedRecord } from './retained-records.ts';

/**
 * What `GET /queues/:q/messages/:id` answers: the wire type the protocol declares
 * (`MessageStatusResult`), one declaration for the machine that builds it and the clients that read it.
 */
export type MessageStatus = MessageStatusResult;

/** `result` only when the ack carried one. */
export type AckedStatus = Extract<MessageStatus, { readonly state: 'acked' }>;

export type DeadStatus = Extract<MessageStatus, { readonly state: 'dead' }>;

/** The fields of a status in every state. */
type StatusBase = Omit<Extract<MessageStatus, { readonly state: 'ready' }>, 'state'>;

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
