import type { PeekedMessage, PeekResult, PeekState } from '../shared/index.ts';
import type { StoredMessage } from './queue-message.ts';
import type { RetainedRecord } from './retained-records.ts';

/**
 * Message ids are a machine-wide counter in base 36, handed out in order: within a queue, a
 * message's id orders it as its enqueue does. `after` pages by that number, so a page boundary holds
 * even when the message it names has since been acked or forgotten.
 */
export function idNumber(id: string): number {
  const number = Number.parseInt(id, 36);
  return Number.isSafeInteger(number) && number >= 0 ? number : -1;
}

function liveStateMatches(message: StoredMessage, state: PeekState): boolean {
  if (message.state === 'new') return false;
  return state === 'waiting' ? message.state === 'ready' || message.state === 'delayed' : message.state === state;
}

function peekedLive(message: StoredMessage): PeekedMessage {
  const base = { id: message.id, seq: message.seq, priority: message.priority, attempt: message.attempt, enqueuedAt: message.enqueuedAt, body: message.body };
  const withOrigin = message.deadLetter === undefined ? base : { ...base, deadLetter: message.deadLetter };
  switch (message.state) {
    case 'delayed':
      return { ...withOrigin, state: 'delayed', availableAt: message.availableAt };
    case 'inflight':
      return { ...withOrigin, state: 'inflight', leaseDeadline: message.leaseDeadline };
    default:
      return { ...withOrigin, state: 'ready' };
  }
}

function peekedRetained(record: RetainedRecord): PeekedMessage {
  const base = { id: record.id, seq: record.seq, state: record.state, priority: record.priority, attempt: record.attempt, enqueuedAt: record.enqueuedAt };
  return record.deadLetter === undefined ? base : { ...base, deadLetter: record.deadLetter };
}

/**
 * A page of live messages in `state`, in enqueue order, after the id numbered `after`. Reads only:
 * nothing is leased, counted or moved. `messages` iterates in insertion order, which is id order.
 */
export function peekLive(messages: Iterable<StoredMessage>, state: PeekState, limit: number, after: number): PeekResult {
  const page: PeekedMessage[] = [];
  for (const message of messages) {
    if (!liveStateMatches(message, state) || idNumber(message.id) <= after) continue;
    if (page.length === limit) return { messages: page, next: page[page.length - 1]!.id };
    page.push(peekedLive(message));
  }
  return { messages: page };
}

/** A page of remembered acked or dead messages (bounded by the retention limits), in id order. */
export function peekRetained(records: readonly RetainedRecord[], state: 'acked' | 'dead', limit: number, after: number, now: number): PeekResult {
  const matching = records
    .filter((record) => record.state === state && record.forgetAt > now && idNumber(record.id) > after)
    .sort((a, b) => idNumber(a.id) - idNumber(b.id));
  const page = matching.slice(0, limit).map(peekedRetained);
  return matching.length > limit ? { messages: page, next: page[page.length - 1]!.id } : { messages: page };
}
