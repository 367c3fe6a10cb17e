import { decode, encode } from '../shared/codec.ts';
import { assert, type PeekResult, type PeekState, parseReceipt, unreachable } from '../shared/index.ts';
import { commandSince, UNVERSIONED_CLUSTER_VERSION } from './cluster-version.ts';
import type { MessageStatus } from './message-status.ts';
import { ProducerSessions } from './producer-sessions.ts';
import type { NewMessage, QueueCommand, QueueResult, QueueStats } from './queue-commands.ts';
import { DEFAULT_RETENTION_LIMITS, defaultQueueConfig, QUEUE_LIMITS, type QueueConfig, type RetentionLimits } from './queue-config.ts';
import { type MachineSnapshot, RAISED_SNAPSHOT_VERSION, SNAPSHOT_VERSION, upgradeSnapshot } from './queue-snapshot.ts';
import { QueueState } from './queue-state.ts';
import { SlicedEncoding } from './sliced-encoding.ts';
import { SnapshotCapture } from './snapshot-capture.ts';

/**
 * The replicated queue state machine. Deterministic: the same commands in the same order give the
 * same state on every replica. Its clock is the leader's stamp on each command, never a local one,
 * and it never moves backwards even when a new leader's wall clock is behind the old one's.
 */
export class QueueStateMachine {
  private queues = new Map<string, QueueState>();
  private now = 0;
  private nextMessageNumber = 1;
  private producers = new ProducerSessions<QueueResult>();
  /** See `cluster-version.ts`: raised by the `clusterVersion` command, never lowered. */
  private version = UNVERSIONED_CLUSTER_VERSION;

  constructor(private readonly retentionLimits: RetentionLimits = DEFAULT_RETENTION_LIMITS) {}

  get clock(): number {
    return this.now;
  }

  get clusterVersion(): number {
    return this.version;
  }

  apply(command: QueueCommand): QueueResult {
    this.now = Math.max(this.now, command.ts);
    // The leader never proposes a command before the cluster reaches its version; one that came anyway
    // (a bypassed gate) is refused alike on every replica, which all know the version.
    const since = commandSince(command.type) ?? Number.POSITIVE_INFINITY;
    if (since > this.version && command.type !== 'clusterVersion') {
      return { type: 'error', code: 'FEATURE_NOT_ENABLED', message: `${command.type} needs cluster version ${since}; the cluster runs ${this.version}` };
    }
    const result = this.applyCommand(command);
    if (command.type === 'clusterVersion') return result;
    const touched = command.type === 'tick' ? [...this.queues.values()] : [this.queues.get(command.queue)];
    this.placeDeadLetters(touched.filter((queue) => queue !== undefined));
    return result;
  }

  private applyCommand(command: QueueCommand): QueueResult {
    switch (command.type) {
      case 'enqueue':
        return this.enqueue(command);
      case 'receive': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'received', messages: [] };
        return { type: 'received', messages: queue.receive(this.now, command.max, command.visibilityMs ?? queue.config.visibilityMs) };
      }
      case 'ack':
      case 'nack':
      case 'extend': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'settled', count: 0, rejected: notFound(command) };
        return { type: 'settled', ...queue.settle(command, this.now) };
      }
      case 'configure':
        return this.configure(command.queue, command.config, command.createWith);
      case 'purge': {
        const queue = this.queues.get(command.queue);
        return { type: 'purged', purged: queue === undefined ? 0 : queue.purge() };
      }
      case 'delete':
        return { type: 'deleted', existed: this.queues.delete(command.queue) };
      case 'redrive':
        return this.redrive(command);
      case 'pause': {
        const queue = this.queues.get(command.queue);
        if (queue === undefined) return { type: 'error', code: 'NOT_FOUND', message: `queue ${command.queue} does not exist` };
        return { type: 'paused', paused: queue.setPaused(command.paused) };
      }
      case 'promote': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'promoted', count: 0, rejected: notFound({ ids: command.ids, receipts: [] }) };
        return { type: 'promoted', ...queue.promote(command.ids, this.now) };
      }
      case 'tick':
        for (const queue of this.queues.values()) queue.advanceTime(this.now);
        this.producers.expire(this.now);
        return { type: 'ticked' };
      case 'clusterVersion':
        return this.raiseVersion(command.version);
      default:
        return unreachable(command, 'queue command');
    }
  }

  /**
   * Counting of nacks, lease expiries and expiries starts at the raise, from zero, on every replica:
   * a node of this release counted them before too, but from wherever it happened to start.
   */
  private raiseVersion(version: number): QueueResult {
    if (version > this.version) {
      this.version = version;
      for (const queue of this.queues.values()) queue.resetEventCounts();
    }
    return { type: 'clusterVersion', version: this.version };
  }

  /** The earliest stamp at which a `tick` would return a lease, release a delay, expire or forget a message. */
  nextDeadline(): number | undefined {
    let earliest = this.producers.nextDeadline();
    for (const queue of this.queues.values()) {
      const deadline = queue.nextDeadline();
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  hasQueue(name: string): boolean {
    return this.queues.has(name);
  }

  stats(name: string): QueueStats | undefined {
    return this.queues.get(name)?.stats();
  }

  list(): QueueStats[] {
    return [...this.queues.values()].map((queue) => queue.stats());
  }

  /** Bytes of message bodies held across all queues. */
  totalBytes(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.stats().bytes;
    return total;
  }

  /** When the longest-waiting ready message of `name` was enqueued (cluster time); undefined when none is ready. */
  oldestReadyEnqueuedAt(name: string): number | undefined {
    // Messages iterate in enqueue order, and a message back from a lease keeps its place: the first ready one is the oldest.
    for (const message of this.queues.get(name)?.readyMessages() ?? []) return message.enqueuedAt;
    return undefined;
  }

  /** Whether `receive` on `name` would deliver something now. */
  hasDeliverable(name: string): boolean {
    return this.queues.get(name)?.hasDeliverable() ?? false;
  }

  /** A live message, or an acked or dead one still remembered (as of the last applied stamp). */
  messageStatus(name: string, id: string): MessageStatus | undefined {
    return this.queues.get(name)?.status(id, this.now);
  }

  /** A page of a queue's messages in one state (see `PeekResult`), as of the last applied stamp; undefined for no such queue. */
  peek(name: string, state: PeekState, limit: number, after: number): PeekResult | undefined {
    return this.queues.get(name)?.peek(state, limit, after, this.now);
  }

  /** The whole state at the last applied command, for a Raft snapshot. */
  snapshot(): Uint8Array {
    const encoding = this.snapshotEncoding();
    while (!encoding.step());
    return encoding.bytes();
  }

  /**
   * The state at the last applied command, taken now (messages, which change in place, by reference
   * and copied before they first change, see `SnapshotCapture`; everything else in it is replaced,
   * never changed), to be encoded a slice at a time while the machine goes on applying.
   */
  snapshotEncoding(sliceItems?: number): SlicedEncoding {
    const capture = new SnapshotCapture();
    const state: MachineSnapshot = {
      version: this.version > UNVERSIONED_CLUSTER_VERSION ? RAISED_SNAPSHOT_VERSION : SNAPSHOT_VERSION,
      now: this.now,
      nextMessageNumber: this.nextMessageNumber,
      queues: [...this.queues.values()].map((queue) => queue.toSnapshot(capture)),
      producers: this.producers.toSnapshot(),
      // Written only once raised: until then a snapshot must read the same to a release from before the gate.
      ...(this.version > UNVERSIONED_CLUSTER_VERSION ? { clusterVersion: this.version } : {}),
    };
    return new SlicedEncoding(state, { asCaptured: capture.asCaptured, onPacked: () => capture.release(), sliceItems });
  }

  /** Replaces the whole state with a snapshot's (a restart, or a snapshot installed from the leader). */
  restore(data: Uint8Array): void {
    const state = upgradeSnapshot(decode(data) as MachineSnapshot);
    this.now = state.now;
    this.nextMessageNumber = state.nextMessageNumber;
    this.queues = new Map(state.queues.map((queue) => [queue.name, QueueState.fromSnapshot(queue, this.retentionLimits)]));
    this.producers = ProducerSessions.fromSnapshot(state.producers);
    this.version = state.clusterVersion ?? UNVERSIONED_CLUSTER_VERSION;
  }

  private advanced(name: string): QueueState | undefined {
    const queue = this.queues.get(name);
    queue?.advanceTime(this.now);
    return queue;
  }

  /** A producer's retry is answered from the first application; nothing is enqueued twice. */
  private enqueue(command: Extract<QueueCommand, { type: 'enqueue' }>): QueueResult {
    const stamp = command.producer;
    if (stamp === undefined) return this.enqueueMessages(command);
    const seen = this.producers.lookup(stamp, this.now);
    switch (seen.kind) {
      case 'answered':
        return seen.result;
      case 'stale':
        return { type: 'error', code: 'BAD_REQUEST', message: `request ${stamp.seq} of producer ${stamp.id} was already settled by its producer; not applied` };
      case 'full':
        return { type: 'error', code: 'OVERLOADED', message: 'too many producers, or too many unsettled requests from this producer' };
      case 'new': {
        const result = this.enqueueMessages(command);
        this.producers.remember(stamp, this.now, result);
        return result;
      }
      default:
        return unreachable(seen, 'producer lookup');
    }
  }

  private enqueueMessages(command: Extract<QueueCommand, { type: 'enqueue' }>): QueueResult {
    const queue = this.advanced(command.queue) ?? this.create(command.queue, command.createWith ?? {});
    if (queue === undefined) return tooManyQueues();
    if (!queue.fits(command.messages)) {
      return { type: 'error', code: 'QUEUE_FULL', message: `queue ${command.queue} is at its maxLength or maxBytes` };
    }
    const ids: string[] = [];
    const seqs: number[] = [];
    const allocateId = () => (this.nextMessageNumber++).toString(36);
    for (const message of command.messages) {
      const placed = queue.enqueue(this.now, message, allocateId);
      ids.push(placed.id);
      seqs.push(placed.seq);
    }
    return { type: 'enqueued', ids, seqs };
  }

  /**
   * Each message goes to `to` or its origin (one without an origin, or whose target is the source
   * itself, stays); one its target cannot take (full, or no room for another queue) stays too.
   */
  private redrive(command: Extract<QueueCommand, { type: 'redrive' }>): QueueResult {
    const source = this.advanced(command.queue);
    if (source === undefined) return { type: 'error', code: 'NOT_FOUND', message: `queue ${command.queue} does not exist` };
    const allocateId = () => (this.nextMessageNumber++).toString(36);
    let moved = 0;
    for (const message of source.readyMessages()) {
      if (moved >= command.max) break;
      const name = command.to ?? message.deadLetter?.queue;
      if (name === undefined || name === command.queue) continue;
      // Not advanced: expiries a target owes are placed when a command of its own runs, as ever.
      const target = this.queues.get(name) ?? this.create(name, command.createWith ?? {});
      const fresh: NewMessage = { body: message.body, priority: message.priority, delayMs: 0, bytes: message.bytes };
      if (target === undefined || !target.fits([fresh])) continue;
      source.removeReady(message);
      target.enqueue(this.now, fresh, allocateId);
      moved++;
    }
    return { type: 'redriven', moved, remaining: source.stats().ready };
  }

  private configure(name: string, config: Partial<QueueConfig>, createWith: Partial<QueueConfig> = {}): QueueResult {
    const existing = this.queues.get(name);
    if (existing !== undefined) {
      existing.config = { ...existing.config, ...config };
      return { type: 'configured', created: false, config: existing.config };
    }
    const created = this.create(name, { ...createWith, ...config });
    if (created === undefined) return tooManyQueues();
    return { type: 'configured', created: true, config: created.config };
  }

  /**
   * Moves the messages that left `sources` to their dead-letter queues, creating them when needed.
   * A dead-letter queue is brought up to the clock before it takes them (its own due delays join
   * its line first), which may send its own messages on in turn: those are placed in the same pass.
   * Each queue was advanced to `now`, and what it takes in is not yet due, so every queue gives up
   * messages at most once and the pass ends.
   */
  private placeDeadLetters(sources: readonly QueueState[]): void {
    const pending = [...sources];
    const passesMax = sources.length + 2 * this.queues.size + 2;
    for (let pass = 0; pass < pending.length; pass++) {
      assert(pass < passesMax, 'dead letters keep moving between queues');
      const source = pending[pass]!;
      const letters = source.takeDeadLetters();
      if (letters.length === 0) continue;
      const name = source.config.deadLetterQueue;
      // A dead-letter queue is made even past the queue limit: its messages must go somewhere.
      const target = this.advanced(name) ?? this.create(name, {}, true)!;
      const allocateId = () => (this.nextMessageNumber++).toString(36);
      for (const letter of letters) source.rememberDeadLetter(this.now, letter, name, target.acceptDeadLetter(this.now, letter, allocateId));
      pending.push(target);
    }
  }

  private create(name: string, config: Partial<QueueConfig>, beyondLimit = false): QueueState | undefined {
    if (this.queues.size >= QUEUE_LIMITS.queuesMax && !beyondLimit) return undefined;
    const queue = new QueueState(name, { ...defaultQueueConfig(name), ...config }, this.retentionLimits);
    this.queues.set(name, queue);
    return queue;
  }
}

function notFound(selector: { ids: readonly string[]; receipts: readonly string[] }) {
  const ids = [...selector.ids, ...selector.receipts.map((receipt) => parseReceipt(receipt).id)];
  return ids.map((id) => ({ id, code: 'NOT_FOUND' as const }));
}

function tooManyQueues(): QueueResult {
  return { type: 'error', code: 'TOO_MANY_QUEUES', message: `at most ${QUEUE_LIMITS.queuesMax} queues` };
}
