import { randomInt } from 'node:crypto';
import { NEW_QUEUE_SETTINGS, type NewMessage, type QueueCommand, type QueueConfig, type QueueResult, type QueueStateMachine } from '../../queue/index.ts';
import type { Raft } from '../../raft/index.ts';
import { REDRIVE_LIMITS, RequestError, type WriteRequest } from '../../shared/index.ts';
import { ProposalBatcher } from './proposal-batcher.ts';
import { versionHold, versionRefusal } from './version-gate.ts';

export interface QueueServiceOptions {
  readonly submit: (input: (raft: Raft) => void) => void;
  readonly machine: QueueStateMachine;
  /** The cluster's wall clock (the voters' median, see `PeerClocks`): what entries are stamped with. */
  readonly clusterWallMs: () => number;
  /** A clock for local waits, which no step of the wall clock may cut short. */
  readonly monoMs: () => number;
  readonly proposalTimeoutMs: number;
  /** Proposals waiting to commit, beyond which new ones are refused with OVERLOADED. */
  readonly pendingProposalsMax: number;
  /** Message bytes the queues may hold in all; enqueues beyond are refused with QUEUE_FULL. */
  readonly memoryBudgetBytes: number;
  /** The members whose release does not support cluster version `version`, for the refusal of a command that needs it. */
  readonly membersBelow: (version: number) => readonly string[];
}

/**
 * Runs write requests on the leader: stamps each with the leader's clock, proposes it, and answers
 * once its entry is applied. Long-polling receives wait here, on the leader, for a queue to fill.
 */
export class QueueService {
  private readonly batcher: ProposalBatcher;
  private readonly waiters = new Map<string, Set<(wake: QueueWake) => void>>();
  private lastStamp = 0;

  constructor(private readonly options: QueueServiceOptions) {
    this.batcher = new ProposalBatcher({
      submit: options.submit,
      proposalTimeoutMs: options.proposalTimeoutMs,
      pendingCommandsMax: options.pendingProposalsMax,
    });
  }

  get pendingCount(): number {
    return this.batcher.size;
  }

  async execute(request: WriteRequest): Promise<unknown> {
    switch (request.op) {
      case 'enqueue': {
        const messages = request.messages.map(toNewMessage);
        this.admit(messages);
        const producer = request.producer === undefined ? {} : { producer: request.producer };
        const proposal = this.propose({ type: 'enqueue', ts: this.stamp(), queue: request.queue, messages, ...producer, ...this.createWith(request.queue) });
        // One waiter per message at most: more could only come back empty.
        const readyNow = messages.filter((message) => message.delayMs === 0).length;
        if (readyNow > 0) this.wake(request.queue, 'filling', readyNow);
        const enqueued = expect(await proposal, 'enqueued');
        return request.batch ? { ids: enqueued.ids, seqs: enqueued.seqs } : { id: enqueued.ids[0], seq: enqueued.seqs[0] };
      }
      case 'receive':
        return { messages: await this.receive(request) };
      case 'ack':
      case 'nack':
      case 'extend': {
        const settled = expect(await this.propose(this.settleCommand(request)), 'settled');
        const countKey = request.op === 'ack' ? 'acked' : request.op === 'nack' ? 'nacked' : 'extended';
        return { [countKey]: settled.count, rejected: settled.rejected };
      }
      case 'configure': {
        const command: QueueCommand = { type: 'configure', ts: this.stamp(), queue: request.queue, config: request.config, ...this.createWith(request.queue) };
        const configured = expect(await this.propose(command), 'configured');
        return { created: configured.created, config: configured.config, name: request.queue };
      }
      case 'purge':
        return { purged: expect(await this.propose({ type: 'purge', ts: this.stamp(), queue: request.queue }), 'purged').purged };
      case 'delete':
        return { deleted: expect(await this.propose({ type: 'delete', ts: this.stamp(), queue: request.queue }), 'deleted').existed };
      case 'redrive':
        return this.redrive(request);
      case 'pause':
      case 'resume': {
        const command: QueueCommand = { type: 'pause', ts: this.stamp(), queue: request.queue, paused: request.op === 'pause' };
        return { paused: expect(await this.propose(command), 'paused').paused };
      }
      case 'promote': {
        const promoted = expect(await this.propose({ type: 'promote', ts: this.stamp(), queue: request.queue, ids: request.ids }), 'promoted');
        return { promoted: promoted.count, rejected: promoted.rejected };
      }
    }
  }

  /**
   * Proposes the raise of the cluster version (see `cluster-version.ts`); the caller has checked that
   * every member supports it. Answers the version the cluster runs once the entry is applied.
   */
  async raiseClusterVersion(version: number): Promise<number> {
    return expect(await this.propose({ type: 'clusterVersion', ts: this.stamp(), version }), 'clusterVersion').version;
  }

  /**
   * Proposes one `redrive` command per batch (each moves atomically), at most `ratePerSec` messages
   * a second, and answers after about half the request timeout at the latest, with what is left:
   * the caller asks again. A batch that failed to commit moved nothing; one that committed is done.
   */
  private async redrive(request: Extract<WriteRequest, { op: 'redrive' }>): Promise<{ moved: number; remaining: number }> {
    const started = this.options.monoMs();
    const answerBy = started + this.options.proposalTimeoutMs / 2;
    const rate = request.ratePerSec ?? Number.POSITIVE_INFINITY;
    let moved = 0;
    for (;;) {
      const batch = Math.min(REDRIVE_LIMITS.batchMax, request.max - moved, rate);
      const to = request.to === undefined ? {} : { to: request.to };
      // Targets are the origins of dead letters, or `to`: queues a client named, which a redrive may create.
      const createWith = request.to === undefined ? { createWith: NEW_QUEUE_SETTINGS } : this.createWith(request.to);
      const result = expect(await this.propose({ type: 'redrive', ts: this.stamp(), queue: request.queue, max: batch, ...to, ...createWith }), 'redriven');
      moved += result.moved;
      if (result.moved < batch || moved >= request.max || result.remaining === 0) return { moved, remaining: result.remaining };
      const dueAt = started + (moved / rate) * 1000;
      if (Math.max(dueAt, this.options.monoMs()) >= answerBy) return { moved, remaining: result.remaining };
      if (dueAt > this.options.monoMs()) await new Promise((resolve) => setTimeout(resolve, dueAt - this.options.monoMs()));
    }
  }

  /**
   * The settings a queue this command would create starts with (see `CreatesQueue`), when this
   * leader's replica has no such queue; none for a queue named as a dead-letter queue, which keeps
   * the machine's defaults as the dead-letter queues it makes do.
   */
  private createWith(queue: string): { createWith?: Partial<QueueConfig> } {
    // Asked on every enqueue: a lookup, not a stats object built to be thrown away.
    if (this.options.machine.hasQueue(queue) || queue.endsWith('.dlq')) return {};
    return { createWith: NEW_QUEUE_SETTINGS };
  }

  private settleCommand(request: Extract<WriteRequest, { op: 'ack' | 'nack' | 'extend' }>): QueueCommand {
    const base = { ts: this.stamp(), queue: request.queue, ids: request.ids, receipts: request.receipts };
    switch (request.op) {
      case 'ack':
        return { type: 'ack', ...base, ...(request.results === undefined ? {} : { results: request.results }) };
      case 'nack': {
        // The state machine may not draw random numbers; the backoff jitter comes from this stamp.
        const seed = randomInt(0x1_0000_0000);
        return { type: 'nack', ...base, delayMs: request.delayMs, seed, ...(request.error === undefined ? {} : { error: request.error }) };
      }
      case 'extend':
        return { type: 'extend', ...base, visibilityMs: request.visibilityMs };
    }
  }

  /**
   * Admission control on the leader, before anything reaches the log: every replica holds the
   * queues in memory, so the cluster refuses work rather than run a node out of memory.
   */
  private admit(messages: readonly NewMessage[]): void {
    const incoming = messages.reduce((sum, message) => sum + message.bytes, 0);
    if (this.options.machine.totalBytes() + incoming > this.options.memoryBudgetBytes) {
      throw new RequestError('QUEUE_FULL', `the cluster holds its memory budget of ${this.options.memoryBudgetBytes} bytes of messages; consume some first`);
    }
  }

  /** Proposes a `tick` when a lease or delay is due by the leader's clock. */
  expireIfDue(): void {
    const deadline = this.options.machine.nextDeadline();
    if (deadline === undefined || deadline > this.options.clusterWallMs() || this.tickInFlight) return;
    this.tickInFlight = true;
    this.propose({ type: 'tick', ts: this.stamp() })
      .catch(() => undefined)
      .finally(() => {
        this.tickInFlight = false;
      });
  }

  private tickInFlight = false;

  /** Called for every applied entry, on every node; only the proposer has someone waiting. */
  onEntryApplied(index: number, term: number, results: readonly QueueResult[]): void {
    this.batcher.onEntryApplied(index, term, results);
  }

  /** Called for every applied command, on every node, in log order. */
  onApplied(command: QueueCommand): void {
    // Any command may fill a line someone waits on: an enqueue or nack its own queue, a last nack
    // or a tick another queue's dead-letter queue. Waiting queues are few; checking each is cheap.
    for (const queue of [...this.waiters.keys()]) {
      if (command.type === 'tick' || this.options.machine.hasDeliverable(queue)) this.wake(queue, 'filled');
    }
  }

  /**
   * This node stopped being leader: proposals it made get a short grace to settle (see
   * `PendingProposals.expireWithin`), and long polls wake to find out that it cannot lease any
   * more, so their callers hear so at once and go elsewhere instead of after their whole wait.
   */
  onLeadershipLost(graceMs: number): void {
    this.batcher.expireWithin(graceMs);
    for (const queue of [...this.waiters.keys()]) this.wake(queue, 'filling');
  }

  failAll(error: RequestError): void {
    this.batcher.rejectAll(error);
    for (const queue of [...this.waiters.keys()]) this.wake(queue, 'filled');
  }

  /**
   * A long poll leases as soon as its queue has a message ready, or, when woken by an enqueue being
   * proposed, in the same log entry as that enqueue: its receive is proposed right behind it, so
   * the lease commits with the message instead of one replication round later.
   */
  private async receive(request: Extract<WriteRequest, { op: 'receive' }>): Promise<unknown[]> {
    const deadline = this.options.monoMs() + request.waitMs;
    let wake: QueueWake = 'filled';
    for (;;) {
      if (wake === 'filling' || this.options.machine.hasDeliverable(request.queue)) {
        const command: QueueCommand = { type: 'receive', ts: this.stamp(), queue: request.queue, max: request.max, visibilityMs: request.visibilityMs };
        const received = expect(await this.propose(command), 'received');
        if (received.messages.length > 0 || this.options.monoMs() >= deadline) return received.messages;
      }
      const remaining = deadline - this.options.monoMs();
      if (remaining <= 0) return [];
      wake = await this.waitForQueue(request.queue, remaining);
    }
  }

  private waitForQueue(queue: string, timeoutMs: number): Promise<QueueWake> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(queue) ?? new Set();
      this.waiters.set(queue, waiters);
      const done = (wake: QueueWake) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(queue);
        resolve(wake);
      };
      const timer = setTimeout(() => done('timedOut'), timeoutMs);
      waiters.add(done);
    });
  }

  private wake(queue: string, wake: QueueWake, most = Number.POSITIVE_INFINITY): void {
    for (const waiter of [...(this.waiters.get(queue) ?? [])].slice(0, most)) waiter(wake);
  }

  /**
   * The version gate: a command the cluster's version does not include yet is never proposed, so
   * no member meets a command its release cannot apply. This leader's applied version is the
   * cluster's as far as any command it proposes now is concerned: the raise is before it in the log.
   */
  private propose(command: QueueCommand): Promise<QueueResult> {
    const hold = versionHold(command.type, this.options.machine.clusterVersion, this.options.membersBelow);
    return hold === undefined ? this.batcher.propose(command) : Promise.reject(versionRefusal(command.type, hold));
  }

  /**
   * The cluster's wall clock, never behind the log's own clock (the machine's) nor a previous stamp:
   * a new leader whose clock is behind does not freeze time, and one whose clock is ahead moves it
   * only as far as the voters' median allows.
   */
  private stamp(): number {
    // Whole milliseconds: the cluster's clock is a median of readings kept on a monotonic clock, and
    // a fraction of it would reach clients in every enqueuedAt and deadline.
    this.lastStamp = Math.max(this.lastStamp, this.options.machine.clock, Math.floor(this.options.clusterWallMs()));
    return this.lastStamp;
  }
}

function toNewMessage(input: WriteRequestMessage): NewMessage {
  const message: { body: unknown; priority: number; delayMs: number; bytes: number; dedupId?: string; ttlMs?: number } = {
    body: input.body,
    priority: input.priority ?? 0,
    delayMs: input.delayMs ?? 0,
    bytes: input.bytes ?? Buffer.byteLength(JSON.stringify(input.body) ?? ''),
  };
  if (input.dedupId !== undefined) message.dedupId = input.dedupId;
  if (input.ttlMs !== undefined) message.ttlMs = input.ttlMs;
  return message;
}

/** Why a long poll woke: a message was applied, an enqueue is being proposed, or its wait ran out. */
type QueueWake = 'filled' | 'filling' | 'timedOut';

type WriteRequestMessage = Extract<WriteRequest, { op: 'enqueue' }>['messages'][number];

function expect<K extends QueueResult['type']>(result: QueueResult, type: K): Extract<QueueResult, { type: K }> {
  if (result.type === 'error') {
    const status = result.code === 'NOT_FOUND' ? 'NOT_FOUND' : result.code;
    throw new RequestError(status, result.message);
  }
  if (result.type !== type) throw new RequestError('INTERNAL', `expected ${type}, got ${result.type}`);
  return result as Extract<QueueResult, { type: K }>;
}
