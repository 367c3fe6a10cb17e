import { type AttemptRecord, assert, type DeadLetterOrigin, type PeekResult, type PeekState, parseReceipt, receiptOf } from '../shared/index.ts';
import { endedAttempt, NO_ATTEMPTS, withAttempt } from './attempt-history.ts';
import { nackBackoffMs } from './backoff.ts';
import { expiryOf, hasExpired } from './message-expiry.ts';
import { peekLive, peekRetained } from './message-peek.ts';
import { describeMessage, describeRetained, type MessageStatus } from './message-status.ts';
import { MinHeap } from './min-heap.ts';
import type { DeliveredMessage, NewMessage, QueueStats, Rejection, SettleCommand } from './queue-commands.ts';
import type { QueueConfig, RetentionLimits } from './queue-config.ts';
import { type DeadLetter, type MessageState, type StoredMessage } from './queue-message.ts';
import { type RetainedRecord, RetainedRecords, retainedRecord } from './retained-records.ts';
import type { SnapshotCapture } from './snapshot-capture.ts';

interface Timed {
  readonly message: StoredMessage;
  readonly at: number;
}

/** An expiry entry is for one stint out of flight: `attempt` tells a later stint's entry from it. */
interface Expiry extends Timed {
  readonly attempt: number;
}

interface DedupRecord {
  readonly id: string;
  readonly seq: number;
  readonly expiresAt: number;
}

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
  readonly retained: readonly RetainedRecord[];
  /** Written only when true: snapshots of queues never paused stay as they were before pausing existed. */
  readonly paused?: true;
  /** Written only when one is not zero (see `QueueEventCounts`). */
  readonly events?: QueueEventCounts;
}

/** Deliveries that ended without an ack, by how; counted from the cluster version 2 raise. */
export interface QueueEventCounts {
  readonly nacked: number;
  readonly leaseExpired: number;
  readonly expired: number;
}

const NO_EVENTS: QueueEventCounts = { nacked: 0, leaseExpired: 0, expired: 0 };

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
  /** Expiry of waiting messages only: a leased message's expiry is checked when its lease ends. */
  private expiries = new MinHeap<Expiry>(earliest);
  private dedup = new Map<string, DedupRecord>();
  private dedupExpiry = new MinHeap<{ key: string; at: number }>((a, b) => a.at < b.at);
  private retained: RetainedRecords;
  private nextSeq = 1;
  private nextPosition = 1;
  private readyCount = 0;
  private delayedCount = 0;
  private inflightCount = 0;
  private bytes = 0;
  private enqueued = 0;
  private acked = 0;
  private dead = 0;
  private paused = false;
  private events: QueueEventCounts = NO_EVENTS;
  /** Messages that left for the dead-letter queue since the machine last collected them. */
  private deadLetters: DeadLetter[] = [];
  /** Snapshots being encoded, each with the messages it holds by reference: those below `seqBelow`. */
  private readonly captures: { readonly capture: SnapshotCapture; readonly seqBelow: number }[] = [];

  constructor(
    readonly name: string,
    config: QueueConfig,
    private readonly retentionLimits: RetentionLimits,
  ) {
    this.config = config;
    this.retained = new RetainedRecords(retentionLimits);
  }

  get length(): number {
    return this.messages.size;
  }

  /**
   * Moves due delays into line, ends expired leases, sends expired waiting messages to the
   * dead-letter queue, forgets old dedup ids and remembered messages. The order is part of the
   * contract (dead letters are placed, and numbered, in the order they leave).
   */
  advanceTime(now: number): void {
    for (let top = this.delayed.peek(); top !== undefined && top.at <= now; top = this.delayed.peek()) {
      this.delayed.pop();
      if (this.isCurrent(top.message, 'delayed', top.at)) this.moveTo(top.message, 'ready', now);
    }
    for (let top = this.leases.peek(); top !== undefined && top.at <= now; top = this.leases.peek()) {
      this.leases.pop();
      if (this.isCurrent(top.message, 'inflight', top.at)) {
        this.countEvent('leaseExpired');
        this.returnToLine(top.message, now, 0, endedAttempt(top.message, 'leaseExpired', now));
      }
    }
    for (let top = this.expiries.peek(); top !== undefined && top.at <= now; top = this.expiries.peek()) {
      this.expiries.pop();
      if (this.isWaitingFor(top)) this.leaveForDeadLetters(top.message, 'expired');
    }
    for (let top = this.dedupExpiry.peek(); top !== undefined && top.at <= now; top = this.dedupExpiry.peek()) {
      this.dedupExpiry.pop();
      if (this.dedup.get(top.key)?.expiresAt === top.at) this.dedup.delete(top.key);
    }
    this.retained.forget(now);
  }

  /** The earliest time at which `advanceTime` would change something, if any. */
  nextDeadline(): number | undefined {
    // Entries made stale by an ack, a nack, an extension or a delivery must not surface as deadlines.
    while (this.delayed.size > 0 && !this.isCurrent(this.delayed.peek()!.message, 'delayed', this.delayed.peek()!.at)) this.delayed.pop();
    while (this.leases.size > 0 && !this.isCurrent(this.leases.peek()!.message, 'inflight', this.leases.peek()!.at)) this.leases.pop();
    while (this.expiries.size > 0 && !this.isWaitingFor(this.expiries.peek()!)) this.expiries.pop();
    const candidates = [this.delayed.peek()?.at, this.leases.peek()?.at, this.expiries.peek()?.at, this.retained.nextSweep()];
    let earliestAt: number | undefined;
    for (const at of candidates) if (at !== undefined && (earliestAt === undefined || at < earliestAt)) earliestAt = at;
    return earliestAt;
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
    const expiresAt = expiryOf(now, message.ttlMs, this.config.messageTtlMs);
    const stored = this.admit(now, message, allocateId(), expiresAt, undefined);
    if (message.dedupId !== undefined) this.rememberDedup(message.dedupId, stored, now);
    if (message.delayMs > 0) this.moveTo(stored, 'delayed', now + message.delayMs);
    else this.moveTo(stored, 'ready', now);
    return { id: stored.id, seq: stored.seq };
  }

  receive(now: number, max: number, visibilityMs: number): DeliveredMessage[] {
    const delivered: DeliveredMessage[] = [];
    if (this.paused) return delivered;
    while (delivered.length < max) {
      const message = this.ready.pop();
      if (message === undefined) break;
      if (!this.isCurrent(message, 'ready', undefined)) continue;
      assert(!hasExpired(message, now), 'an expired message is never delivered');
      this.beforeChange(message);
      message.attempt++;
      message.deliveredAt = now;
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
    this.sweepStaleEntries();
    return delivered;
  }

  /** Acks, nacks or extends each selected message; a receipt is fenced to its own lease. */
  settle(command: SettleCommand, now: number): { count: number; rejected: Rejection[] } {
    const rejected: Rejection[] = [];
    let count = 0;
    const targets = [
      ...command.ids.map((id) => ({ id, attempt: undefined as number | undefined, result: undefined as unknown })),
      ...command.receipts.map((receipt, index) => ({ ...parseReceipt(receipt), result: command.type === 'ack' ? command.results?.[index] : undefined })),
    ];
    for (const { id, attempt, result } of targets) {
      const refusal = this.settleOne(command, now, id, attempt, result);
      if (refusal === undefined) count++;
      else rejected.push({ id, code: refusal });
    }
    return { count, rejected };
  }

  private settleOne(command: SettleCommand, now: number, id: string, attempt: number | undefined, result: unknown): Rejection['code'] | undefined {
    const message = this.messages.get(id);
    if (message === undefined) return 'NOT_FOUND';
    if (attempt !== undefined && (message.state !== 'inflight' || message.attempt !== attempt)) return 'LEASE_EXPIRED';
    if (command.type === 'ack') {
      this.ackOne(message, now, result);
      return undefined;
    }
    if (message.state !== 'inflight') return 'NOT_INFLIGHT';
    if (command.type === 'extend') {
      // A leased message keeps its lease past its expiry: its holder may still be working on it.
      this.moveTo(message, 'inflight', now + command.visibilityMs);
      return undefined;
    }
    this.countEvent('nacked');
    const delayMs = command.delayMs ?? nackBackoffMs(this.config.backoff, message.attempt, command.seed, message.id);
    this.returnToLine(message, now, delayMs, endedAttempt(message, 'nacked', now, command.error));
    return undefined;
  }

  /** An ack by bare id may take a message nobody holds: then no delivery ends with it. */
  private ackOne(message: StoredMessage, now: number, result: unknown): void {
    if (message.state === 'inflight') {
      this.beforeChange(message);
      message.history = withAttempt(message.history, endedAttempt(message, 'acked', now));
    }
    this.remove(message);
    this.acked++;
    this.retained.remember(now, retainedRecord(message, now, now + this.config.retentionMs, { state: 'acked', result }));
  }

  /** Empties the queue; remembered acked and dead messages stay until their time is up. */
  purge(): number {
    const purged = this.messages.size;
    // Heaps first: removing message by message would otherwise sweep them over and over.
    this.ready.clear();
    this.delayed.clear();
    this.leases.clear();
    this.expiries.clear();
    for (const message of [...this.messages.values()]) this.remove(message);
    assert(this.readyCount + this.delayedCount + this.inflightCount === 0, 'a purged queue counts no message');
    return purged;
  }

  /** A live message in the state it is in, or a remembered acked or dead one. */
  status(id: string, now: number): MessageStatus | undefined {
    const message = this.messages.get(id);
    if (message !== undefined && message.state !== 'new') return describeMessage(message);
    const record = this.retained.find(id, now);
    return record === undefined ? undefined : describeRetained(record);
  }

  /** A page of messages in `state` after the id numbered `after`, read without changing anything. */
  peek(state: PeekState, limit: number, after: number, now: number): PeekResult {
    if (state === 'acked' || state === 'dead') return peekRetained(this.retained.values(), state, limit, after, now);
    return peekLive(this.messages.values(), state, limit, after);
  }

  /** The ready messages, in enqueue order; a redrive may remove the one it was just given. */
  *readyMessages(): Generator<StoredMessage> {
    for (const message of this.messages.values()) if (message.state === 'ready') yield message;
  }

  /** A ready message leaves this queue for another (a redrive): it is no longer here, nor counted. */
  removeReady(message: StoredMessage): void {
    assert(message.state === 'ready', 'a redrive takes only ready messages');
    this.remove(message);
  }

  /** Stops or restarts deliveries; returns whether the queue is paused now. */
  setPaused(paused: boolean): boolean {
    this.paused = paused;
    return this.paused;
  }

  /** Whether a receive would deliver something now. */
  hasDeliverable(): boolean {
    return !this.paused && this.readyCount > 0;
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
      paused: this.paused,
      ...this.events,
      config: this.config,
    };
  }

  /**
   * Makes each delayed message ready now: one back from a lease to its old place in line, one that
   * never joined the line to its end, in commit order (whatever order the ids came in). One in
   * another state is refused.
   */
  promote(ids: readonly string[], now: number): { count: number; rejected: Rejection[] } {
    const rejected: Rejection[] = [];
    const promoted = new Map<string, StoredMessage>();
    for (const id of ids) {
      const message = this.messages.get(id);
      if (message === undefined) rejected.push({ id, code: 'NOT_FOUND' });
      else if (message.state !== 'delayed') rejected.push({ id, code: 'NOT_DELAYED' });
      else promoted.set(id, message);
    }
    for (const message of [...promoted.values()].sort((a, b) => a.seq - b.seq)) this.moveTo(message, 'ready', now);
    return { count: ids.length - rejected.length, rejected };
  }

  resetEventCounts(): void {
    this.events = NO_EVENTS;
  }

  private countEvent(kind: keyof QueueEventCounts): void {
    // Replaced, never changed in place: a snapshot being encoded holds the object it was taken with.
    this.events = { ...this.events, [kind]: this.events[kind] + 1 };
  }

  /** The messages now, by reference: those already here change only after `beforeChange`. */
  private captured(capture: SnapshotCapture): StoredMessage[] {
    const registration = { capture, seqBelow: this.nextSeq };
    this.captures.push(registration);
    capture.whenReleased(() => this.captures.splice(this.captures.indexOf(registration), 1));
    return Array.from(this.messages.values());
  }

  /** Every change to a stored message comes through here first (see `SnapshotCapture`). */
  private beforeChange(message: StoredMessage): void {
    for (const { capture, seqBelow } of this.captures) if (message.seq < seqBelow) capture.keepBeforeChange(message);
  }

  /**
   * This queue's part of a snapshot: its messages are the live objects, which the queue copies into
   * the capture before it first changes one (see `SnapshotCapture`).
   */
  toSnapshot(capture: SnapshotCapture): QueueSnapshot {
    assert(this.deadLetters.length === 0, 'dead letters are placed before a snapshot can be taken');
    const snapshot: QueueSnapshot = {
      name: this.name,
      config: this.config,
      nextSeq: this.nextSeq,
      nextPosition: this.nextPosition,
      enqueued: this.enqueued,
      acked: this.acked,
      dead: this.dead,
      messages: this.captured(capture),
      dedup: [...this.dedup.entries()],
      retained: [...this.retained.values()],
      ...(this.paused ? { paused: true as const } : {}),
      ...(this.events === NO_EVENTS ? {} : { events: this.events }),
    };
    capture.holdsMessagesOf(snapshot);
    return snapshot;
  }

  /** Rebuilds a queue from its snapshot: lines, counts and expiries are derived from each message's state. */
  static fromSnapshot(snapshot: QueueSnapshot, retentionLimits: RetentionLimits): QueueState {
    const queue = new QueueState(snapshot.name, snapshot.config, retentionLimits);
    queue.nextSeq = snapshot.nextSeq;
    queue.nextPosition = snapshot.nextPosition;
    queue.enqueued = snapshot.enqueued;
    queue.acked = snapshot.acked;
    queue.dead = snapshot.dead;
    queue.paused = snapshot.paused === true;
    queue.events = snapshot.events ?? NO_EVENTS;
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
    queue.retained = RetainedRecords.restore(snapshot.retained, retentionLimits);
    return queue;
  }

  /**
   * A message back from a lease (expired or nacked) takes its old place, after `delayMs`, unless it
   * expired meanwhile or has used up `maxDeliveries`: then it leaves for the dead-letter queue,
   * never silently away. Expiry is checked first: a message nobody wants any more is not retried.
   */
  private returnToLine(message: StoredMessage, now: number, delayMs: number, ended: AttemptRecord): void {
    this.beforeChange(message);
    message.history = withAttempt(message.history, ended);
    const limit = this.config.maxDeliveries;
    if (hasExpired(message, now)) this.leaveForDeadLetters(message, 'expired');
    else if (limit > 0 && message.attempt >= limit) this.leaveForDeadLetters(message, 'maxDeliveries');
    else if (delayMs > 0) this.moveTo(message, 'delayed', now + delayMs);
    else this.moveTo(message, 'ready', now);
  }

  private leaveForDeadLetters(message: StoredMessage, reason: DeadLetterOrigin['reason']): void {
    if (reason === 'expired') this.countEvent('expired');
    this.remove(message);
    this.dead++;
    const origin = { queue: this.name, id: message.id, reason, attempts: message.attempt, history: message.history };
    this.deadLetters.push({ message, origin });
  }

  /** A new message in this queue, counted but in no line yet: the caller places it. */
  private admit(
    now: number,
    source: { readonly body: unknown; readonly priority: number; readonly bytes: number },
    id: string,
    expiresAt: number,
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
      deliveredAt: 0,
      expiresAt,
      history: NO_ATTEMPTS,
      ...(deadLetter === undefined ? {} : { deadLetter }),
    };
    this.messages.set(stored.id, stored);
    this.bytes += stored.bytes;
    this.enqueued++;
    return stored;
  }

  /** Hands over the messages that left for the dead-letter queue since the last call. */
  takeDeadLetters(): DeadLetter[] {
    const taken = this.deadLetters;
    this.deadLetters = [];
    return taken;
  }

  /**
   * Places a message from another queue's dead letters at the tail of this one, and returns its id
   * here. Its TTL is this queue's own, not the one it had: by default a dead letter never expires.
   */
  acceptDeadLetter(now: number, letter: DeadLetter, allocateId: () => string): string {
    const stored = this.admit(now, letter.message, allocateId(), expiryOf(now, undefined, this.config.messageTtlMs), letter.origin);
    this.moveTo(stored, 'ready', now);
    return stored.id;
  }

  /** Remembers, in the queue it left, where a dead letter went. */
  rememberDeadLetter(now: number, letter: DeadLetter, deadLetterQueue: string, deadLetterId: string): void {
    const outcome = { state: 'dead' as const, origin: letter.origin, deadLetterQueue, deadLetterId };
    this.retained.remember(now, retainedRecord(letter.message, now, now + this.config.retentionMs, outcome));
  }

  /** The one place a message changes line: counts and heaps stay in step with `state`. */
  private moveTo(message: StoredMessage, state: Exclude<MessageState, 'new'>, at: number): void {
    const leavesFlight = message.state === 'new' || message.state === 'inflight';
    this.beforeChange(message);
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
    if (state !== 'inflight' && leavesFlight && message.expiresAt > 0) {
      this.expiries.push({ message, at: message.expiresAt, attempt: message.attempt });
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
    this.sweepStaleEntries();
  }

  /**
   * An acked message leaves stale lease and expiry entries that hold its body until they would
   * have fallen due (days, for a TTL): at thousands of acks a second that is most of the heap.
   * Sweep a heap once stale entries dominate it.
   */
  private sweepStaleEntries(): void {
    if (this.leases.size > 2 * this.inflightCount + 1024) {
      this.leases.retain((entry) => this.isCurrent(entry.message, 'inflight', entry.at));
    }
    if (this.expiries.size > 2 * (this.readyCount + this.delayedCount) + 1024) {
      this.expiries.retain((entry) => this.isWaitingFor(entry));
    }
  }

  /** A heap entry is current when its message is still here, in that state, for that time. */
  private isCurrent(message: StoredMessage, state: MessageState, at: number | undefined): boolean {
    if (this.messages.get(message.id) !== message || message.state !== state) return false;
    if (at === undefined) return true;
    return state === 'delayed' ? message.availableAt === at : message.leaseDeadline === at;
  }

  /** An expiry entry is current while its message waits in the stint the entry was made for. */
  private isWaitingFor(entry: Expiry): boolean {
    const { message } = entry;
    if (this.messages.get(message.id) !== message || message.attempt !== entry.attempt) return false;
    return message.state === 'ready' || message.state === 'delayed';
  }

  private rememberDedup(key: string, message: StoredMessage, now: number): void {
    const expiresAt = now + this.config.dedupWindowMs;
    this.dedup.set(key, { id: message.id, seq: message.seq, expiresAt });
    this.dedupExpiry.push({ key, at: expiresAt });
  }
}
