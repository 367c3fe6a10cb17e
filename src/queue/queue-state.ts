import { assert } from '../shared/index.ts';
import { MinHeap } from './min-heap.ts';
import type { DeliveredMessage, MessageSelector, NewMessage, QueueStats, Rejection } from './queue-commands.ts';
import type { QueueConfig } from './queue-config.ts';

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
  /** Set on a message in a dead-letter queue: where it came from and why. */
  readonly deadLetter?: DeadLetterOrigin;
}

export interface DeadLetterOrigin {
  readonly queue: string;
  readonly id: string;
  readonly reason: 'maxDeliveries';
  readonly attempts: number;
}

/** A message that left this queue for its dead-letter queue; the machine places it there. */
export interface DeadLetter {
  readonly message: StoredMessage;
  readonly origin: DeadLetterOrigin;
}

interface Timed {
  readonly message: StoredMessage;
  readonly at: number;
}

interface DedupRecord {
  readonly id: string;
  readonly seq: number;
  readonly expiresAt: number;
}

export type Settlement = 'ack' | 'nack' | 'extend';

/** One queue as a snapshot holds it: plain data, in the order it must be rebuilt. */
export interface QueueSnapshot {
  readonly name: string;
  readonly config: QueueConfig;
  readonly nextSeq: number;
  readonly nextPosition: number;
  readonly enqueued: number;
  readonly acked: number;
  readonly dead: number;
  readonly messages: readonly StoredMessage[];
  readonly dedup: readonly (readonly [key: string, record: DedupRecord])[];
}

/** Higher priority first, then place in line: a returning message takes back its old place. */
const deliveryOrder = (a: StoredMessage, b: StoredMessage) => (a.priority !== b.priority ? a.priority > b.priority : a.position < b.position);
const earliest = (a: Timed, b: Timed) => (a.at !== b.at ? a.at < b.at : a.message.seq < b.message.seq);

/**
 * One named queue. Heaps hold entries lazily: an entry whose message moved on (acked, leased again,
 * lease extended) is skipped when it surfaces, so nothing is searched or removed from the middle.
 */
export class QueueState {
  config: QueueConfig;
  private messages = new Map<string, StoredMessage>();
  private ready = new MinHeap<StoredMessage>(deliveryOrder);
  private delayed = new MinHeap<Timed>(earliest);
  private leases = new MinHeap<Timed>(earliest);
  private dedup = new Map<string, DedupRecord>();
  private dedupExpiry = new MinHeap<{ key: string; at: number }>((a, b) => a.at < b.at);
  private nextSeq = 1;
  private nextPosition = 1;
  private readyCount = 0;
  private delayedCount = 0;
  private inflightCount = 0;
  private bytes = 0;
  private enqueued = 0;
  private acked = 0;
  private dead = 0;
  /** Messages that ran out of deliveries since the machine last collected them. */
  private deadLetters: DeadLetter[] = [];

  constructor(readonly name: string, config: QueueConfig) {
    this.config = config;
  }

  get length(): number {
    return this.messages.size;
  }

  /** Moves due delays into line, returns expired leases to their place, forgets old dedup ids. */
  advanceTime(now: number): void {
    for (let top = this.delayed.peek(); top !== undefined && top.at <= now; top = this.delayed.peek()) {
      this.delayed.pop();
      if (this.isCurrent(top.message, 'delayed', top.at)) this.moveTo(top.message, 'ready', now);
    }
    for (let top = this.leases.peek(); top !== undefined && top.at <= now; top = this.leases.peek()) {
      this.leases.pop();
      if (this.isCurrent(top.message, 'inflight', top.at)) this.returnToLine(top.message, now, 0);
    }
    for (let top = this.dedupExpiry.peek(); top !== undefined && top.at <= now; top = this.dedupExpiry.peek()) {
      this.dedupExpiry.pop();
      if (this.dedup.get(top.key)?.expiresAt === top.at) this.dedup.delete(top.key);
    }
  }

  /** The earliest time at which `advanceTime` would change something, if any. */
  nextDeadline(): number | undefined {
    // Entries made stale by an ack, a nack or an extension must not surface as deadlines.
    while (this.delayed.size > 0 && !this.isCurrent(this.delayed.peek()!.message, 'delayed', this.delayed.peek()!.at)) this.delayed.pop();
    while (this.leases.size > 0 && !this.isCurrent(this.leases.peek()!.message, 'inflight', this.leases.peek()!.at)) this.leases.pop();
    const delayed = this.delayed.peek()?.at;
    const lease = this.leases.peek()?.at;
    if (delayed === undefined) return lease;
    return lease === undefined ? delayed : Math.min(delayed, lease);
  }

  /** Whether the batch fits the queue's limits (checked whole: a batch is all or nothing). */
  fits(batch: readonly NewMessage[]): boolean {
    const seen = new Set<string>();
    const fresh = batch.filter((message) => {
      if (message.dedupId === undefined) return true;
      if (this.dedup.has(message.dedupId) || seen.has(message.dedupId)) return false;
      seen.add(message.dedupId);
      return true;
    });
    const bytes = fresh.reduce((sum, message) => sum + message.bytes, 0);
    return this.messages.size + fresh.length <= this.config.maxLength && this.bytes + bytes <= this.config.maxBytes;
  }

  /** Places a message, or returns the first one enqueued under the same dedup id in the window. */
  enqueue(now: number, message: NewMessage, allocateId: () => string): { id: string; seq: number } {
    const duplicate = message.dedupId === undefined ? undefined : this.dedup.get(message.dedupId);
    if (duplicate !== undefined) return { id: duplicate.id, seq: duplicate.seq };
    const stored = this.admit(now, message, allocateId(), undefined);
    if (message.dedupId !== undefined) this.rememberDedup(message.dedupId, stored, now);
    if (message.delayMs > 0) this.moveTo(stored, 'delayed', now + message.delayMs);
    else this.moveTo(stored, 'ready', now);
    return { id: stored.id, seq: stored.seq };
  }

  receive(now: number, max: number, visibilityMs: number): DeliveredMessage[] {
    const delivered: DeliveredMessage[] = [];
    while (delivered.length < max) {
      const message = this.ready.pop();
      if (message === undefined) break;
      if (!this.isCurrent(message, 'ready', undefined)) continue;
      message.attempt++;
      this.moveTo(message, 'inflight', now + visibilityMs);
      const delivery = {
        id: message.id,
        seq: message.seq,
        receipt: receiptOf(message),
        body: message.body,
        attempt: message.attempt,
        priority: message.priority,
        enqueuedAt: message.enqueuedAt,
      };
      delivered.push(message.deadLetter === undefined ? delivery : { ...delivery, deadLetter: message.deadLetter });
    }
    return delivered;
  }

  /** Acks, nacks or extends each selected message; a receipt is fenced to its own lease. */
  settle(kind: Settlement, now: number, selector: MessageSelector, durationMs: number | undefined): { count: number; rejected: Rejection[] } {
    const rejected: Rejection[] = [];
    let count = 0;
    const targets = [
      ...selector.ids.map((id) => ({ id, attempt: undefined as number | undefined })),
      ...selector.receipts.map(parseReceipt),
    ];
    for (const { id, attempt } of targets) {
      const refusal = this.settleOne(kind, now, id, attempt, durationMs);
      if (refusal === undefined) count++;
      else rejected.push({ id, code: refusal });
    }
    return { count, rejected };
  }

  private settleOne(kind: Settlement, now: number, id: string, attempt: number | undefined, durationMs: number | undefined): Rejection['code'] | undefined {
    const message = this.messages.get(id);
    if (message === undefined) return 'NOT_FOUND';
    if (attempt !== undefined && (message.state !== 'inflight' || message.attempt !== attempt)) return 'LEASE_EXPIRED';
    if (kind === 'ack') {
      this.remove(message);
      this.acked++;
      return undefined;
    }
    if (message.state !== 'inflight') return 'NOT_INFLIGHT';
    if (kind === 'extend') {
      this.moveTo(message, 'inflight', now + (durationMs ?? this.config.visibilityMs));
      return undefined;
    }
    this.returnToLine(message, now, durationMs ?? this.backoffMs(message.attempt));
    return undefined;
  }

  purge(): number {
    const purged = this.messages.size;
    for (const message of [...this.messages.values()]) this.remove(message);
    this.ready.clear();
    this.delayed.clear();
    this.leases.clear();
    return purged;
  }

  find(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  stats(): QueueStats {
    return {
      name: this.name,
      ready: this.readyCount,
      inflight: this.inflightCount,
      delayed: this.delayedCount,
      dead: this.dead,
      enqueued: this.enqueued,
      acked: this.acked,
      bytes: this.bytes,
      config: this.config,
    };
  }

  toSnapshot(): QueueSnapshot {
    return {
      name: this.name,
      config: this.config,
      nextSeq: this.nextSeq,
      nextPosition: this.nextPosition,
      enqueued: this.enqueued,
      acked: this.acked,
      dead: this.dead,
      messages: [...this.messages.values()],
      dedup: [...this.dedup.entries()],
    };
  }

  /** Rebuilds a queue from its snapshot: lines and counts are derived from each message's state. */
  static fromSnapshot(snapshot: QueueSnapshot): QueueState {
    const queue = new QueueState(snapshot.name, snapshot.config);
    queue.nextSeq = snapshot.nextSeq;
    queue.nextPosition = snapshot.nextPosition;
    queue.enqueued = snapshot.enqueued;
    queue.acked = snapshot.acked;
    queue.dead = snapshot.dead;
    for (const saved of snapshot.messages) {
      assert(saved.state !== 'new', 'a snapshot holds only placed messages');
      const message: StoredMessage = { ...saved, state: 'new' };
      queue.messages.set(message.id, message);
      queue.bytes += message.bytes;
      const at = saved.state === 'delayed' ? saved.availableAt : saved.leaseDeadline;
      queue.moveTo(message, saved.state, at);
    }
    for (const [key, record] of snapshot.dedup) {
      queue.dedup.set(key, record);
      queue.dedupExpiry.push({ key, at: record.expiresAt });
    }
    return queue;
  }

  /**
   * A message back from a lease (expired or nacked) takes its old place, after `delayMs`, unless
   * it has used up `maxDeliveries`: then it leaves for the dead-letter queue, never silently away.
   */
  private returnToLine(message: StoredMessage, now: number, delayMs: number): void {
    const limit = this.config.maxDeliveries;
    if (limit > 0 && message.attempt >= limit) {
      this.remove(message);
      this.dead++;
      this.deadLetters.push({ message, origin: { queue: this.name, id: message.id, reason: 'maxDeliveries', attempts: message.attempt } });
      return;
    }
    if (delayMs > 0) this.moveTo(message, 'delayed', now + delayMs);
    else this.moveTo(message, 'ready', now);
  }

  /** A new message in this queue, counted but in no line yet: the caller places it. */
  private admit(
    now: number,
    source: { readonly body: unknown; readonly priority: number; readonly bytes: number },
    id: string,
    deadLetter: DeadLetterOrigin | undefined,
  ): StoredMessage {
    const stored: StoredMessage = {
      id,
      seq: this.nextSeq++,
      body: source.body,
      priority: source.priority,
      enqueuedAt: now,
      bytes: source.bytes,
      position: 0,
      state: 'new',
      attempt: 0,
      availableAt: now,
      leaseDeadline: 0,
      ...(deadLetter === undefined ? {} : { deadLetter }),
    };
    this.messages.set(stored.id, stored);
    this.bytes += stored.bytes;
    this.enqueued++;
    return stored;
  }

  /** Hands over the messages that ran out of deliveries since the last call. */
  takeDeadLetters(): DeadLetter[] {
    const taken = this.deadLetters;
    this.deadLetters = [];
    return taken;
  }

  /** Places a message from another queue's dead letters at the tail of this one. */
  acceptDeadLetter(now: number, letter: DeadLetter, allocateId: () => string): void {
    const stored = this.admit(now, letter.message, allocateId(), letter.origin);
    this.moveTo(stored, 'ready', now);
  }

  /** Exponential backoff by attempt, capped: a failing message waits longer each time. */
  private backoffMs(attempt: number): number {
    const { baseMs, maxMs } = this.config.backoff;
    return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  }

  /** The one place a message changes line: counts and heaps stay in step with `state`. */
  private moveTo(message: StoredMessage, state: Exclude<MessageState, 'new'>, at: number): void {
    this.count(message.state, -1);
    this.count(state, 1);
    message.state = state;
    if (state === 'ready') {
      if (message.position === 0) message.position = this.nextPosition++;
      this.ready.push(message);
    } else if (state === 'delayed') {
      message.availableAt = at;
      this.delayed.push({ message, at });
    } else {
      message.leaseDeadline = at;
      this.leases.push({ message, at });
    }
  }

  private count(state: MessageState, delta: number): void {
    if (state === 'ready') this.readyCount += delta;
    else if (state === 'delayed') this.delayedCount += delta;
    else if (state === 'inflight') this.inflightCount += delta;
  }

  private remove(message: StoredMessage): void {
    assert(this.messages.get(message.id) === message, 'removing an unknown message');
    this.count(message.state, -1);
    this.messages.delete(message.id);
    this.bytes -= message.bytes;
    // An acked message leaves a stale lease entry that holds its body until the lease would end:
    // at thousands of acks a second that is most of the heap. Sweep once stale entries dominate.
    if (this.leases.size > 2 * this.inflightCount + 1024) {
      this.leases.retain((entry) => this.isCurrent(entry.message, 'inflight', entry.at));
    }
  }

  /** A heap entry is current when its message is still here, in that state, for that time. */
  private isCurrent(message: StoredMessage, state: MessageState, at: number | undefined): boolean {
    if (this.messages.get(message.id) !== message || message.state !== state) return false;
    if (at === undefined) return true;
    return state === 'delayed' ? message.availableAt === at : message.leaseDeadline === at;
  }

  private rememberDedup(key: string, message: StoredMessage, now: number): void {
    const expiresAt = now + this.config.dedupWindowMs;
    this.dedup.set(key, { id: message.id, seq: message.seq, expiresAt });
    this.dedupExpiry.push({ key, at: expiresAt });
  }
}

export function receiptOf(message: { id: string; attempt: number }): string {
  return `${message.id}:${message.attempt}`;
}

export function parseReceipt(receipt: string): { id: string; attempt: number } {
  const separator = receipt.lastIndexOf(':');
  const attempt = Number(receipt.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(attempt) || attempt < 1) return { id: receipt, attempt: -1 };
  return { id: receipt.slice(0, separator), attempt };
}
