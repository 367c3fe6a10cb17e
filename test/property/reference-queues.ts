import {
  type AckedStatus,
  type DeadStatus,
  type DeliveredMessage,
  defaultQueueConfig,
  type MessageStatus,
  type NewMessage,
  nackBackoffMs,
  type QueueCommand,
  type QueueConfig,
  type QueueResult,
  type QueueStats,
  RETENTION_SWEEP_GRAIN_MS,
  type Rejection,
  type RetentionLimits,
  type SettleCommand,
} from '../../src/queue/index.ts';
import type { AttemptRecord, DeadLetterOrigin } from '../../src/shared/index.ts';

// ---------------------------------------------------------------------------------------------
// Reference model: the documented semantics written as plainly as possible (arrays, linear scans,
// a sort per receive), so a disagreement points at the optimised machine, not at the model. Where
// the order of events inside one command is part of the contract (dead letters are numbered in
// the order they leave), the model spells that order out instead of deriving it from heaps.
// ---------------------------------------------------------------------------------------------

const HISTORY_MAX = 10;

interface ModelMessage {
  readonly id: string;
  readonly seq: number;
  readonly body: unknown;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly bytes: number;
  /**
   * When the message first joined the line, counted over the whole model (0: not yet): its place for
   * good, whatever happens to it later. Delays that end together join earliest end first, then in
   * commit order; promoted messages join at the promote, in commit order.
   */
  joinOrder: number;
  /** 0 = never. */
  readonly expiresAt: number;
  readonly origin?: DeadLetterOrigin;
  state: 'ready' | 'delayed' | 'inflight';
  attempt: number;
  availableAt: number;
  leaseDeadline: number;
  deliveredAt: number;
  history: AttemptRecord[];
}

interface ModelRecord {
  readonly status: AckedStatus | DeadStatus;
  readonly forgetAt: number;
}

interface ModelQueue {
  readonly name: string;
  config: QueueConfig;
  messages: ModelMessage[];
  dedup: Map<string, { id: string; seq: number; expiresAt: number }>;
  nextSeq: number;
  enqueued: number;
  acked: number;
  dead: number;
  /** Acked and dead messages still held: dropped when the queue sees time pass or remembers another. */
  records: ModelRecord[];
  /** A paused queue delivers nothing; everything else goes on. */
  paused: boolean;
  /** Deliveries nacked, leases run out, messages expired: from the cluster version 2 raise, from zero. */
  nacked: number;
  leaseExpired: number;
  expired: number;
  /** Messages that left during the current command, in the order they left. */
  leaving: { message: ModelMessage; origin: DeadLetterOrigin }[];
}

/** Higher priority first; then whoever joined the line first. */
function lineOrder(a: ModelMessage, b: ModelMessage): number {
  return b.priority - a.priority || a.joinOrder - b.joinOrder;
}

export class ReferenceQueues {
  now = 0;
  /** The cluster version: commands added after it are refused until it is raised; never lowered. */
  version = 1;
  /** Messages that ever joined a line (see `joinOrder`). */
  private joins = 0;
  private nextNumber = 1;
  private readonly queues = new Map<string, ModelQueue>();

  constructor(private readonly limits: RetentionLimits) {}

  apply(command: QueueCommand): QueueResult {
    this.now = Math.max(this.now, command.ts);
    if (command.type === 'clusterVersion') {
      if (command.version > this.version) {
        this.version = command.version;
        for (const queue of this.queues.values()) Object.assign(queue, { nacked: 0, leaseExpired: 0, expired: 0 });
      }
      return { type: 'clusterVersion', version: this.version };
    }
    if (command.type === 'promote' && this.version < 2) return { type: 'error', code: 'FEATURE_NOT_ENABLED', message: 'promote needs cluster version 2' };
    const sources = command.type === 'tick' ? [...this.queues.values()] : [];
    const result = this.applyCommand(command);
    const touched = command.type === 'tick' ? undefined : this.queues.get(command.queue);
    this.placeLeaving(touched === undefined ? sources : [touched]);
    return result;
  }

  private applyCommand(command: QueueCommand): QueueResult {
    switch (command.type) {
      case 'configure': {
        const existing = this.queues.get(command.queue);
        if (existing !== undefined) existing.config = { ...existing.config, ...command.config };
        const queue = existing ?? this.create(command.queue, { ...(command.createWith ?? {}), ...command.config });
        return { type: 'configured', created: existing === undefined, config: queue.config };
      }
      case 'enqueue':
        return this.enqueue(this.advanced(command.queue) ?? this.create(command.queue, command.createWith ?? {}), command.messages);
      case 'receive': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'received', messages: [] };
        return { type: 'received', messages: this.receive(queue, command.max, command.visibilityMs ?? queue.config.visibilityMs) };
      }
      case 'ack':
      case 'nack':
      case 'extend': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'settled', count: 0, rejected: targetsOf(command).map(({ id }) => ({ id, code: 'NOT_FOUND' })) };
        return this.settle(queue, command);
      }
      case 'purge': {
        const queue = this.queues.get(command.queue);
        const purged = queue?.messages.length ?? 0;
        // Dedup ids and remembered messages outlive a purge: a retried enqueue stays answered.
        if (queue !== undefined) queue.messages = [];
        return { type: 'purged', purged };
      }
      case 'delete':
        return { type: 'deleted', existed: this.queues.delete(command.queue) };
      case 'redrive': {
        const source = this.advanced(command.queue);
        if (source === undefined) return { type: 'error', code: 'NOT_FOUND', message: `queue ${command.queue} does not exist` };
        let moved = 0;
        for (const message of [...source.messages]) {
          if (moved >= command.max) break;
          const name = command.to ?? message.origin?.queue;
          if (message.state !== 'ready' || name === undefined || name === command.queue) continue;
          const target = this.queues.get(name) ?? this.create(name, command.createWith ?? {});
          const bytes = target.messages.reduce((sum, held) => sum + held.bytes, 0);
          if (target.messages.length + 1 > target.config.maxLength || bytes + message.bytes > target.config.maxBytes) continue;
          source.messages = source.messages.filter((held) => held !== message);
          const ttl = target.config.messageTtlMs;
          this.admit(target, message, 0, ttl > 0 ? this.now + ttl : 0, undefined);
          moved++;
        }
        return { type: 'redriven', moved, remaining: source.messages.filter((held) => held.state === 'ready').length };
      }
      case 'pause': {
        const queue = this.queues.get(command.queue);
        if (queue === undefined) return { type: 'error', code: 'NOT_FOUND', message: `queue ${command.queue} does not exist` };
        queue.paused = command.paused;
        return { type: 'paused', paused: queue.paused };
      }
      case 'promote': {
        const queue = this.advanced(command.queue);
        const rejected: Rejection[] = [];
        let count = 0;
        for (const id of command.ids) {
          const message = queue?.messages.find((candidate) => candidate.id === id);
          if (message === undefined) rejected.push({ id, code: 'NOT_FOUND' });
          else if (message.state !== 'delayed') rejected.push({ id, code: 'NOT_DELAYED' });
          else count++;
        }
        const promoted = (queue?.messages ?? []).filter((message) => message.state === 'delayed' && command.ids.includes(message.id));
        this.join(promoted.sort((a, b) => a.seq - b.seq));
        return { type: 'promoted', count, rejected };
      }
      case 'tick':
        for (const queue of this.queues.values()) this.advance(queue);
        return { type: 'ticked' };
      case 'clusterVersion':
        return { type: 'clusterVersion', version: this.version };
    }
  }

  stats(name: string): QueueStats | undefined {
    const queue = this.queues.get(name);
    if (queue === undefined) return undefined;
    const inState = (state: ModelMessage['state']) => queue.messages.filter((message) => message.state === state).length;
    return {
      name,
      ready: inState('ready'),
      inflight: inState('inflight'),
      delayed: inState('delayed'),
      dead: queue.dead,
      enqueued: queue.enqueued,
      acked: queue.acked,
      bytes: queue.messages.reduce((sum, message) => sum + message.bytes, 0),
      paused: queue.paused,
      nacked: queue.nacked,
      leaseExpired: queue.leaseExpired,
      expired: queue.expired,
      config: queue.config,
    };
  }

  list(): QueueStats[] {
    return [...this.queues.keys()].map((name) => this.stats(name)!);
  }

  names(): string[] {
    return [...this.queues.keys()];
  }

  messageStatus(name: string, id: string): MessageStatus | undefined {
    const queue = this.queues.get(name);
    const message = queue?.messages.find((candidate) => candidate.id === id);
    if (message === undefined) return queue?.records.find((record) => record.status.id === id && record.forgetAt > this.now)?.status;
    const base = statusBase(message);
    if (message.state === 'delayed') return { ...base, state: 'delayed', availableAt: message.availableAt };
    if (message.state === 'inflight') {
      return { ...base, state: 'inflight', leaseDeadline: message.leaseDeadline, receipt: `${id}:${message.attempt}`, deliveredAt: message.deliveredAt };
    }
    return { ...base, state: 'ready' };
  }

  /** The true earliest moment a delay, lease or expiry falls due, or a held record may be swept. */
  nextDeadline(): number | undefined {
    const deadlines = [...this.queues.values()].flatMap((queue) => [
      ...queue.messages.flatMap((message) => {
        if (message.state === 'inflight') return [message.leaseDeadline];
        const expiry = message.expiresAt > 0 ? [message.expiresAt] : [];
        return message.state === 'delayed' ? [message.availableAt, ...expiry] : expiry;
      }),
      ...queue.records.map((record) => Math.ceil(record.forgetAt / RETENTION_SWEEP_GRAIN_MS) * RETENTION_SWEEP_GRAIN_MS),
    ]);
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  get clock(): number {
    return this.now;
  }

  hasDeliverable(name: string): boolean {
    const stats = this.stats(name);
    return stats !== undefined && !stats.paused && stats.ready > 0;
  }

  /** Ids of the messages in `name`, those leased or all of them. */
  idsIn(name: string, which: 'leased' | 'delayed' | 'live'): string[] {
    const messages = this.queues.get(name)?.messages ?? [];
    const wanted = { leased: 'inflight', delayed: 'delayed', live: undefined }[which];
    return messages.filter((message) => wanted === undefined || message.state === wanted).map((message) => message.id);
  }

  /** Every id a status read could name: live messages and held records, in every queue. */
  knownIds(): string[] {
    return [...this.queues.values()].flatMap((queue) => [...queue.messages.map((message) => message.id), ...queue.records.map((record) => record.status.id)]);
  }

  /** A message's current attempt, for building receipts that are current or stale. */
  attemptOf(id: string): number | undefined {
    for (const queue of this.queues.values()) {
      const message = queue.messages.find((candidate) => candidate.id === id);
      if (message !== undefined) return message.attempt;
    }
    return undefined;
  }

  private create(name: string, config: Partial<QueueConfig>): ModelQueue {
    const queue: ModelQueue = {
      name,
      config: { ...defaultQueueConfig(name), ...config },
      messages: [],
      dedup: new Map(),
      nextSeq: 1,
      enqueued: 0,
      acked: 0,
      dead: 0,
      records: [],
      paused: false,
      nacked: 0,
      leaseExpired: 0,
      expired: 0,
      leaving: [],
    };
    this.queues.set(name, queue);
    return queue;
  }

  private advanced(name: string): ModelQueue | undefined {
    const queue = this.queues.get(name);
    if (queue !== undefined) this.advance(queue);
    return queue;
  }

  /**
   * A queue sees time pass only when a command names it, or on a tick: stats read in between are
   * as of then. Delays end first, then leases (earliest deadline first), then waiting messages
   * expire (earliest expiry first).
   */
  private advance(queue: ModelQueue): void {
    const due = queue.messages.filter((message) => message.state === 'delayed' && message.availableAt <= this.now);
    this.join(due.sort((a, b) => a.availableAt - b.availableAt || a.seq - b.seq));
    const leasesDue = queue.messages.filter((message) => message.state === 'inflight' && message.leaseDeadline <= this.now);
    for (const message of leasesDue.sort((a, b) => a.leaseDeadline - b.leaseDeadline || a.seq - b.seq)) {
      queue.leaseExpired++;
      this.returnToLine(queue, message, 0, this.ended(message, 'leaseExpired'));
    }
    const expired = queue.messages.filter((message) => message.state !== 'inflight' && this.hasExpired(message));
    for (const message of expired.sort((a, b) => a.expiresAt - b.expiresAt || a.seq - b.seq)) this.leave(queue, message, 'expired');
    queue.records = queue.records.filter((record) => record.forgetAt > this.now);
  }

  private hasExpired(message: ModelMessage): boolean {
    return message.expiresAt > 0 && message.expiresAt <= this.now;
  }

  private liveDedup(queue: ModelQueue, key: string | undefined) {
    const record = key === undefined ? undefined : queue.dedup.get(key);
    return record !== undefined && record.expiresAt > this.now ? record : undefined;
  }

  private enqueue(queue: ModelQueue, batch: readonly NewMessage[]): QueueResult {
    const seen = new Set<string>();
    let freshCount = 0;
    let freshBytes = 0;
    for (const message of batch) {
      const key = message.dedupId;
      if (key !== undefined && (seen.has(key) || this.liveDedup(queue, key) !== undefined)) continue;
      if (key !== undefined) seen.add(key);
      freshCount++;
      freshBytes += message.bytes;
    }
    const bytes = queue.messages.reduce((sum, message) => sum + message.bytes, 0);
    if (queue.messages.length + freshCount > queue.config.maxLength || bytes + freshBytes > queue.config.maxBytes) {
      return { type: 'error', code: 'QUEUE_FULL', message: '' };
    }
    const ids: string[] = [];
    const seqs: number[] = [];
    for (const message of batch) {
      const duplicate = this.liveDedup(queue, message.dedupId);
      if (duplicate !== undefined) {
        ids.push(duplicate.id);
        seqs.push(duplicate.seq);
        continue;
      }
      const ttl = message.ttlMs ?? queue.config.messageTtlMs;
      const placed = this.admit(queue, message, message.delayMs, ttl > 0 ? this.now + ttl : 0, undefined);
      if (message.dedupId !== undefined) queue.dedup.set(message.dedupId, { id: placed.id, seq: placed.seq, expiresAt: this.now + queue.config.dedupWindowMs });
      ids.push(placed.id);
      seqs.push(placed.seq);
    }
    return { type: 'enqueued', ids, seqs };
  }

  private admit(
    queue: ModelQueue,
    source: { readonly body: unknown; readonly priority: number; readonly bytes: number },
    delayMs: number,
    expiresAt: number,
    origin: DeadLetterOrigin | undefined,
  ): ModelMessage {
    // Ids must be the same on every replica, so the machine's scheme (a base-36 counter over the
    // whole machine) is part of what is compared.
    const availableAt = this.now + delayMs;
    const message: ModelMessage = {
      id: (this.nextNumber++).toString(36),
      seq: queue.nextSeq++,
      body: source.body,
      priority: source.priority,
      enqueuedAt: this.now,
      bytes: source.bytes,
      joinOrder: delayMs > 0 ? 0 : ++this.joins,
      expiresAt,
      ...(origin === undefined ? {} : { origin }),
      state: delayMs > 0 ? 'delayed' : 'ready',
      attempt: 0,
      availableAt,
      leaseDeadline: 0,
      deliveredAt: 0,
      history: [],
    };
    queue.messages.push(message);
    queue.enqueued++;
    return message;
  }

  /** Makes each message ready, in the given order; one that never joined the line joins it now. */
  private join(messages: readonly ModelMessage[]): void {
    for (const message of messages) {
      message.state = 'ready';
      if (message.joinOrder === 0) message.joinOrder = ++this.joins;
    }
  }

  private receive(queue: ModelQueue, max: number, visibilityMs: number): DeliveredMessage[] {
    if (queue.paused) return [];
    const chosen = queue.messages
      .filter((message) => message.state === 'ready')
      .sort(lineOrder)
      .slice(0, max);
    return chosen.map((message) => {
      message.attempt++;
      message.state = 'inflight';
      message.leaseDeadline = this.now + visibilityMs;
      message.deliveredAt = this.now;
      const { id, seq, body, attempt, priority, enqueuedAt } = message;
      const delivered = { id, seq, receipt: `${id}:${attempt}`, body, attempt, priority, enqueuedAt };
      return message.origin === undefined ? delivered : { ...delivered, deadLetter: message.origin };
    });
  }

  private settle(queue: ModelQueue, command: SettleCommand): QueueResult {
    const rejected: Rejection[] = [];
    let count = 0;
    for (const target of targetsOf(command)) {
      const code = this.settleOne(queue, command, target);
      if (code === undefined) count++;
      else rejected.push({ id: target.id, code });
    }
    return { type: 'settled', count, rejected };
  }

  private settleOne(queue: ModelQueue, command: SettleCommand, target: Target): Rejection['code'] | undefined {
    const message = queue.messages.find((candidate) => candidate.id === target.id);
    if (message === undefined) return 'NOT_FOUND';
    const leaseIsCurrent = message.state === 'inflight' && message.attempt === target.attempt;
    if (target.attempt !== undefined && !leaseIsCurrent) return 'LEASE_EXPIRED';
    if (command.type === 'ack') {
      if (message.state === 'inflight') message.history = bounded([...message.history, this.ended(message, 'acked')]);
      queue.messages = queue.messages.filter((candidate) => candidate !== message);
      queue.acked++;
      const acked = { ...statusBase(message), state: 'acked' as const, ackedAt: this.now };
      this.remember(queue, target.result === undefined ? acked : { ...acked, result: target.result });
      return undefined;
    }
    if (message.state !== 'inflight') return 'NOT_INFLIGHT';
    if (command.type === 'extend') {
      message.leaseDeadline = this.now + command.visibilityMs;
      return undefined;
    }
    queue.nacked++;
    const delayMs = command.delayMs ?? nackBackoffMs(queue.config.backoff, message.attempt, command.seed, message.id);
    this.returnToLine(queue, message, delayMs, this.ended(message, 'nacked', command.error));
    return undefined;
  }

  private ended(message: ModelMessage, outcome: AttemptRecord['outcome'], error?: string): AttemptRecord {
    const record = { attempt: message.attempt, deliveredAt: message.deliveredAt, outcome, endedAt: this.now };
    return error === undefined ? record : { ...record, error };
  }

  /** Back from a lease: expired first, then out of deliveries, else to its old place in line. */
  private returnToLine(queue: ModelQueue, message: ModelMessage, delayMs: number, ended: AttemptRecord): void {
    message.history = bounded([...message.history, ended]);
    const limit = queue.config.maxDeliveries;
    if (this.hasExpired(message)) return this.leave(queue, message, 'expired');
    if (limit > 0 && message.attempt >= limit) return this.leave(queue, message, 'maxDeliveries');
    message.state = delayMs > 0 ? 'delayed' : 'ready';
    message.availableAt = this.now + delayMs;
  }

  private leave(queue: ModelQueue, message: ModelMessage, reason: DeadLetterOrigin['reason']): void {
    if (reason === 'expired') queue.expired++;
    queue.messages = queue.messages.filter((candidate) => candidate !== message);
    queue.dead++;
    queue.leaving.push({ message, origin: { queue: queue.name, id: message.id, reason, attempts: message.attempt, history: message.history } });
  }

  /**
   * Places what left the touched queues in their dead-letter queues: each target is brought up to
   * the clock first, and what that sends on is placed in the same pass, in the order queues gave up
   * messages.
   */
  private placeLeaving(sources: readonly ModelQueue[]): void {
    const pending = [...sources];
    for (let pass = 0; pass < pending.length; pass++) {
      const source = pending[pass]!;
      const letters = source.leaving;
      source.leaving = [];
      if (letters.length === 0) continue;
      const name = source.config.deadLetterQueue;
      const target = this.advanced(name) ?? this.create(name, {});
      for (const { message, origin } of letters) {
        const ttl = target.config.messageTtlMs;
        const placed = this.admit(target, message, 0, ttl > 0 ? this.now + ttl : 0, origin);
        const dead = {
          ...statusBase(message),
          state: 'dead' as const,
          deadAt: this.now,
          deadReason: origin.reason,
          deadLetterQueue: name,
          deadLetterId: placed.id,
        };
        this.remember(source, dead);
      }
      pending.push(target);
    }
  }

  /** Keeps a record for `retentionMs`, then trims to the limits, soonest forgotten (then oldest) first. */
  private remember(queue: ModelQueue, status: AckedStatus | DeadStatus): void {
    queue.records = queue.records.filter((record) => record.forgetAt > this.now);
    if (queue.config.retentionMs <= 0) return;
    queue.records.push({ status, forgetAt: this.now + queue.config.retentionMs });
    const bytes = () => queue.records.reduce((sum, record) => sum + recordBytes(record.status), 0);
    while (queue.records.length > this.limits.recordsMax || bytes() > this.limits.bytesMax) {
      const soonest = [...queue.records].sort((a, b) => a.forgetAt - b.forgetAt || a.status.seq - b.status.seq)[0]!;
      queue.records = queue.records.filter((record) => record !== soonest);
    }
  }
}

interface Target {
  readonly id: string;
  readonly attempt: number | undefined;
  readonly result: unknown;
}

function targetsOf(command: SettleCommand): Target[] {
  return [
    ...command.ids.map((id) => ({ id, attempt: undefined, result: undefined })),
    ...command.receipts.map((receipt, index) => {
      const colon = receipt.lastIndexOf(':');
      const attempt = Number(receipt.slice(colon + 1));
      const valid = colon > 0 && Number.isInteger(attempt) && attempt >= 1;
      const result = command.type === 'ack' ? command.results?.[index] : undefined;
      return valid ? { id: receipt.slice(0, colon), attempt, result } : { id: receipt, attempt: -1, result };
    }),
  ];
}

function bounded(history: AttemptRecord[]): AttemptRecord[] {
  return history.slice(-HISTORY_MAX);
}

function statusBase(message: ModelMessage) {
  const { id, seq, attempt, priority, enqueuedAt, history } = message;
  return {
    id,
    seq,
    attempt,
    priority,
    enqueuedAt,
    history,
    ...(message.expiresAt > 0 ? { expiresAt: message.expiresAt } : {}),
    ...(message.origin === undefined ? {} : { deadLetter: message.origin }),
  };
}

/** Results and error texts as JSON characters: what the retention byte bound counts. */
function recordBytes(status: AckedStatus | DeadStatus): number {
  const result = status.state === 'acked' && status.result !== undefined ? JSON.stringify(status.result).length : 0;
  const attempts = [...status.history, ...(status.deadLetter?.history ?? [])];
  return result + attempts.reduce((sum, attempt) => sum + (attempt.error?.length ?? 0), 0);
}
