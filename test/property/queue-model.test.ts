import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultQueueConfig,
  QueueStateMachine,
  type DeliveredMessage,
  type MessageStatus,
  type NewMessage,
  type QueueCommand,
  type QueueConfig,
  type QueueResult,
  type QueueStats,
  type Rejection,
} from '../../src/queue/index.ts';

// ---------------------------------------------------------------------------------------------
// Reference model: the documented semantics written as plainly as possible (arrays, linear scans,
// a sort per receive), so a disagreement points at the optimised machine, not at the model.
// ---------------------------------------------------------------------------------------------

interface ModelMessage {
  readonly id: string;
  readonly seq: number;
  readonly body: unknown;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly bytes: number;
  /** When the message first joined the line: its place for good, whatever happens to it later. */
  readonly joinedAt: number;
  state: 'ready' | 'delayed' | 'inflight';
  attempt: number;
  availableAt: number;
  leaseDeadline: number;
}

interface ModelQueue {
  readonly name: string;
  config: QueueConfig;
  messages: ModelMessage[];
  dedup: Map<string, { id: string; seq: number; expiresAt: number }>;
  nextSeq: number;
  enqueued: number;
  acked: number;
}

/** Higher priority first; then whoever joined the line first; then commit order. */
function lineOrder(a: ModelMessage, b: ModelMessage): number {
  return b.priority - a.priority || a.joinedAt - b.joinedAt || a.seq - b.seq;
}

class ReferenceQueues {
  now = 0;
  private nextNumber = 1;
  private readonly queues = new Map<string, ModelQueue>();

  apply(command: QueueCommand): QueueResult {
    this.now = Math.max(this.now, command.ts);
    switch (command.type) {
      case 'configure': {
        const existing = this.queues.get(command.queue);
        if (existing !== undefined) existing.config = { ...existing.config, ...command.config };
        const queue = existing ?? this.create(command.queue, command.config);
        return { type: 'configured', created: existing === undefined, config: queue.config };
      }
      case 'enqueue':
        return this.enqueue(this.advanced(command.queue) ?? this.create(command.queue, {}), command.messages);
      case 'receive': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) return { type: 'received', messages: [] };
        return { type: 'received', messages: this.receive(queue, command.max, command.visibilityMs ?? queue.config.visibilityMs) };
      }
      case 'ack':
      case 'nack':
      case 'extend': {
        const queue = this.advanced(command.queue);
        if (queue === undefined) throw new Error('the model only settles on queues that exist');
        return this.settle(queue, command);
      }
      case 'purge': {
        const queue = this.queues.get(command.queue);
        const purged = queue?.messages.length ?? 0;
        // Dedup ids outlive a purge: the spec is silent, and a retried enqueue stays answered.
        if (queue !== undefined) queue.messages = [];
        return { type: 'purged', purged };
      }
      case 'delete':
        return { type: 'deleted', existed: this.queues.delete(command.queue) };
      case 'tick':
        for (const queue of this.queues.values()) this.advance(queue);
        return { type: 'ticked' };
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
      dead: 0,
      enqueued: queue.enqueued,
      acked: queue.acked,
      bytes: queue.messages.reduce((sum, message) => sum + message.bytes, 0),
      config: queue.config,
    };
  }

  list(): QueueStats[] {
    return [...this.queues.keys()].map((name) => this.stats(name)!);
  }

  messageStatus(name: string, id: string): MessageStatus | undefined {
    const message = this.queues.get(name)?.messages.find((candidate) => candidate.id === id);
    if (message === undefined) return undefined;
    const { seq, state, attempt, priority, enqueuedAt } = message;
    const base = { id, seq, state, attempt, priority, enqueuedAt };
    if (state === 'delayed') return { ...base, availableAt: message.availableAt };
    if (state === 'inflight') return { ...base, leaseDeadline: message.leaseDeadline, receipt: `${id}:${attempt}` };
    return base;
  }

  /** The true earliest moment a delay or lease falls due, across all queues. */
  nextDeadline(): number | undefined {
    const deadlines = [...this.queues.values()].flatMap((queue) =>
      queue.messages.flatMap((message) =>
        message.state === 'delayed' ? [message.availableAt] : message.state === 'inflight' ? [message.leaseDeadline] : [],
      ),
    );
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  get clock(): number {
    return this.now;
  }

  hasReady(name: string): boolean {
    return (this.stats(name)?.ready ?? 0) > 0;
  }

  /** Ids of the messages in `name`, those leased or all of them. */
  idsIn(name: string, which: 'leased' | 'live'): string[] {
    const messages = this.queues.get(name)?.messages ?? [];
    return messages.filter((message) => which === 'live' || message.state === 'inflight').map((message) => message.id);
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
    const queue: ModelQueue = { name, config: { ...defaultQueueConfig(name), ...config }, messages: [], dedup: new Map(), nextSeq: 1, enqueued: 0, acked: 0 };
    this.queues.set(name, queue);
    return queue;
  }

  private advanced(name: string): ModelQueue | undefined {
    const queue = this.queues.get(name);
    if (queue !== undefined) this.advance(queue);
    return queue;
  }

  /** A queue sees time pass only when a command names it, or on a tick: stats read in between are as of then. */
  private advance(queue: ModelQueue): void {
    for (const message of queue.messages) {
      if (message.state === 'delayed' && message.availableAt <= this.now) message.state = 'ready';
      if (message.state === 'inflight' && message.leaseDeadline <= this.now) message.state = 'ready';
    }
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
      // Ids must be the same on every replica, so the machine's scheme (a base-36 counter over
      // the whole machine) is part of what is compared.
      const id = (this.nextNumber++).toString(36);
      const seq = queue.nextSeq++;
      const availableAt = this.now + message.delayMs;
      queue.messages.push({
        id,
        seq,
        body: message.body,
        priority: message.priority,
        enqueuedAt: this.now,
        bytes: message.bytes,
        joinedAt: availableAt,
        state: message.delayMs > 0 ? 'delayed' : 'ready',
        attempt: 0,
        availableAt,
        leaseDeadline: 0,
      });
      queue.enqueued++;
      if (message.dedupId !== undefined) queue.dedup.set(message.dedupId, { id, seq, expiresAt: this.now + queue.config.dedupWindowMs });
      ids.push(id);
      seqs.push(seq);
    }
    return { type: 'enqueued', ids, seqs };
  }

  private receive(queue: ModelQueue, max: number, visibilityMs: number): DeliveredMessage[] {
    const chosen = queue.messages.filter((message) => message.state === 'ready').sort(lineOrder).slice(0, max);
    return chosen.map((message) => {
      message.attempt++;
      message.state = 'inflight';
      message.leaseDeadline = this.now + visibilityMs;
      const { id, seq, body, attempt, priority, enqueuedAt } = message;
      return { id, seq, receipt: `${id}:${attempt}`, body, attempt, priority, enqueuedAt };
    });
  }

  private settle(queue: ModelQueue, command: Extract<QueueCommand, { type: 'ack' | 'nack' | 'extend' }>): QueueResult {
    const targets = [
      ...command.ids.map((id) => ({ id, attempt: undefined as number | undefined })),
      ...command.receipts.map((receipt) => {
        const colon = receipt.lastIndexOf(':');
        return { id: receipt.slice(0, colon), attempt: Number(receipt.slice(colon + 1)) };
      }),
    ];
    const rejected: Rejection[] = [];
    let count = 0;
    for (const { id, attempt } of targets) {
      const code = this.settleOne(queue, command, id, attempt);
      if (code === undefined) count++;
      else rejected.push({ id, code });
    }
    return { type: 'settled', count, rejected };
  }

  private settleOne(
    queue: ModelQueue,
    command: Extract<QueueCommand, { type: 'ack' | 'nack' | 'extend' }>,
    id: string,
    attempt: number | undefined,
  ): Rejection['code'] | undefined {
    const message = queue.messages.find((candidate) => candidate.id === id);
    if (message === undefined) return 'NOT_FOUND';
    const leaseIsCurrent = message.state === 'inflight' && message.attempt === attempt;
    if (attempt !== undefined && !leaseIsCurrent) return 'LEASE_EXPIRED';
    if (command.type === 'ack') {
      queue.messages = queue.messages.filter((candidate) => candidate !== message);
      queue.acked++;
      return undefined;
    }
    if (message.state !== 'inflight') return 'NOT_INFLIGHT';
    if (command.type === 'extend') {
      message.leaseDeadline = this.now + command.visibilityMs;
      return undefined;
    }
    const { baseMs, maxMs } = queue.config.backoff;
    const delayMs = command.delayMs ?? Math.min(maxMs, baseMs * 2 ** (message.attempt - 1));
    message.state = delayMs > 0 ? 'delayed' : 'ready';
    message.availableAt = this.now + delayMs;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Operations: generated abstractly, then made concrete against the model's state so that ids and
// receipts name real (or deliberately stale or unknown) messages.
// ---------------------------------------------------------------------------------------------

const QUEUES = ['alpha', 'beta'] as const;

interface MessageSpec {
  readonly priority: number;
  readonly delayMs: number;
  readonly dedupKey: number | null;
  readonly bytes: number;
}

interface TargetSpec {
  /**
   * Index into a pool of ids: the queue's leased messages (where fencing and extension matter),
   * its live messages, or every id issued so far plus one that never existed.
   */
  readonly pick: number;
  readonly pool: 'leased' | 'live' | 'issued';
  readonly asReceipt: boolean;
  /** A receipt for the attempt before the current one: fenced out unless it is the only one. */
  readonly stale: boolean;
}

type Operation =
  | { readonly kind: 'enqueue'; readonly queue: number; readonly dt: number; readonly messages: readonly MessageSpec[] }
  | { readonly kind: 'receive'; readonly queue: number; readonly dt: number; readonly max: number; readonly visibilityMs: number | null }
  | {
      readonly kind: 'ack' | 'nack' | 'extend';
      readonly queue: number;
      readonly dt: number;
      readonly targets: readonly TargetSpec[];
      readonly durationMs: number | null;
    }
  | { readonly kind: 'tick'; readonly dt: number }
  | { readonly kind: 'purge'; readonly queue: number; readonly dt: number };

const queueIndex = fc.integer({ min: 0, max: QUEUES.length - 1 });

/** Durations on a 10 ms grid, so that stamps often land exactly on a deadline (the edge cases). */
function grid(minSteps: number, maxSteps: number): fc.Arbitrary<number> {
  return fc.integer({ min: minSteps, max: maxSteps }).map((steps) => steps * 10);
}

// Mostly forwards, sometimes backwards: the machine must hold its clock when a stamp goes back.
const timeStep = fc.oneof({ weight: 5, arbitrary: grid(0, 12) }, { weight: 1, arbitrary: grid(-6, -1) });

const messageSpec: fc.Arbitrary<MessageSpec> = fc.record({
  priority: fc.integer({ min: 0, max: 2 }),
  delayMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: grid(1, 20) }),
  dedupKey: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 2 }),
  bytes: fc.integer({ min: 1, max: 6 }),
});

const targetSpec: fc.Arbitrary<TargetSpec> = fc.record({
  pick: fc.nat({ max: 1000 }),
  pool: fc.constantFrom('leased', 'leased', 'live', 'issued'),
  asReceipt: fc.boolean(),
  stale: fc.integer({ min: 0, max: 3 }).map((roll) => roll === 0),
});

function settle(kind: 'ack' | 'nack' | 'extend', durationMs: fc.Arbitrary<number | null>) {
  const targets = fc.array(targetSpec, { minLength: 1, maxLength: 3 });
  return fc.record({ kind: fc.constant(kind), queue: queueIndex, dt: timeStep, targets, durationMs });
}

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('enqueue' as const), queue: queueIndex, dt: timeStep, messages: fc.array(messageSpec, { minLength: 1, maxLength: 4 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('receive' as const),
      queue: queueIndex,
      dt: timeStep,
      max: fc.integer({ min: 0, max: 4 }),
      visibilityMs: fc.option(grid(0, 20), { freq: 3 }),
    }),
  },
  { weight: 4, arbitrary: settle('ack', fc.constant(null)) },
  { weight: 2, arbitrary: settle('nack', fc.oneof(fc.constant(null), fc.constant(0), grid(1, 15))) },
  { weight: 2, arbitrary: settle('extend', grid(0, 20)) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: grid(0, 25) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('purge' as const), queue: queueIndex, dt: timeStep }) },
);

const queueConfig: fc.Arbitrary<Partial<QueueConfig>> = fc
  .record({
    visibilityMs: grid(1, 30),
    baseMs: grid(1, 10),
    extraMs: grid(0, 30),
    dedupWindowMs: grid(1, 15),
    maxLength: fc.integer({ min: 3, max: 15 }),
    maxBytes: fc.integer({ min: 10, max: 80 }),
  })
  .map(({ baseMs, extraMs, ...rest }) => ({ ...rest, backoff: { baseMs, maxMs: baseMs + extraMs } }));

/** Per-queue settings, then the commands; long runs so leases, retries and dedup windows interact. */
const scenario = fc.tuple(
  fc.array(queueConfig, { minLength: QUEUES.length, maxLength: QUEUES.length }),
  fc.array(operation, { maxLength: 60, size: 'max' }),
);

/** Turns abstract operations into commands, stepping the model so later picks see current ids. */
class CommandBuilder {
  readonly model = new ReferenceQueues();
  /** Every id the model has handed out, in order, so an operation can name one by index. */
  readonly issued: string[] = [];
  private ts = 0;
  private bodies = 0;

  configure(configs: readonly Partial<QueueConfig>[]): QueueCommand[] {
    return QUEUES.map((queue, index) => ({ type: 'configure', ts: 0, queue, config: configs[index] ?? {} }));
  }

  build(op: Operation): QueueCommand {
    this.ts += op.dt;
    const ts = this.ts;
    switch (op.kind) {
      case 'tick':
        return { type: 'tick', ts };
      case 'purge':
        return { type: 'purge', ts, queue: this.queueName(op.queue) };
      case 'receive':
        return { type: 'receive', ts, queue: this.queueName(op.queue), max: op.max, visibilityMs: op.visibilityMs ?? undefined };
      case 'enqueue': {
        const messages = op.messages.map((spec) => ({
          body: { n: this.bodies++ },
          priority: spec.priority,
          delayMs: spec.delayMs,
          bytes: spec.bytes,
          ...(spec.dedupKey === null ? {} : { dedupId: `k${spec.dedupKey}` }),
        }));
        return { type: 'enqueue', ts, queue: this.queueName(op.queue), messages };
      }
      case 'ack':
      case 'nack':
      case 'extend': {
        const queue = this.queueName(op.queue);
        const ids: string[] = [];
        const receipts: string[] = [];
        for (const target of op.targets) {
          const leased = target.pool === 'leased' ? this.model.idsIn(queue, 'leased') : [];
          const live = target.pool === 'issued' ? [] : this.model.idsIn(queue, 'live');
          const pool = [leased, live, [...this.issued, 'never-issued']].find((ids) => ids.length > 0)!;
          const id = pool[target.pick % pool.length]!;
          if (!target.asReceipt) {
            ids.push(id);
            continue;
          }
          const attempt = Math.max(1, (this.model.attemptOf(id) ?? 1) - (target.stale ? 1 : 0));
          receipts.push(`${id}:${attempt}`);
        }
        const base = { ts, queue, ids, receipts };
        if (op.kind === 'ack') return { type: 'ack', ...base };
        if (op.kind === 'nack') return { type: 'nack', ...base, delayMs: op.durationMs ?? undefined };
        return { type: 'extend', ...base, visibilityMs: op.durationMs ?? 0 };
      }
    }
  }

  /** Applies a command to the model and remembers any ids it issued. */
  step(command: QueueCommand): QueueResult {
    const result = this.model.apply(command);
    if (result.type === 'enqueued') for (const id of result.ids) if (!this.issued.includes(id)) this.issued.push(id);
    return result;
  }

  private queueName(index: number): string {
    return QUEUES[index % QUEUES.length]!;
  }
}

/** Error texts are prose for people; only the code is part of the contract. */
function comparable(result: QueueResult): unknown {
  return result.type === 'error' ? { type: result.type, code: result.code } : result;
}

type Observable = Pick<QueueStateMachine, 'clock' | 'list' | 'hasReady' | 'messageStatus'>;

/** Everything a client could read back, for the ids that the step could have touched. */
function observe(machine: Observable, ids: ReadonlySet<string>) {
  return {
    clock: machine.clock,
    queues: machine.list(),
    hasReady: QUEUES.map((queue) => machine.hasReady(queue)),
    statuses: QUEUES.flatMap((queue) => [...ids].map((id) => [queue, id, machine.messageStatus(queue, id)])),
  };
}

function idsNamedBy(command: QueueCommand, result: QueueResult): string[] {
  const named: string[] = [];
  if ('ids' in command) named.push(...command.ids, ...command.receipts.map((receipt) => receipt.slice(0, receipt.lastIndexOf(':'))));
  if (result.type === 'enqueued') named.push(...result.ids);
  if (result.type === 'received') named.push(...result.messages.map((message) => message.id));
  return named;
}

function checkAgainstModel(configs: readonly Partial<QueueConfig>[], ops: readonly Operation[]): void {
  const machine = new QueueStateMachine();
  const builder = new CommandBuilder();
  const history: string[] = [];
  const pending: (QueueCommand | Operation)[] = [...builder.configure(configs), ...ops];
  for (const next of pending) {
    const command = 'kind' in next ? builder.build(next) : next;
    history.push(JSON.stringify(command));
    // Every id live before or after the step, plus any it named: so an id that was acked, purged
    // or never existed is checked to be unknown to the machine too.
    const ids = new Set(QUEUES.flatMap((queue) => builder.model.idsIn(queue, 'live')));
    const expectedResult = builder.step(command);
    const actualResult = machine.apply(command);
    for (const id of [...QUEUES.flatMap((queue) => builder.model.idsIn(queue, 'live')), ...idsNamedBy(command, expectedResult)]) ids.add(id);
    const expected = { result: comparable(expectedResult), ...observe(builder.model, ids) };
    const actual = { result: comparable(actualResult), ...observe(machine, ids) };
    // A deep-equality pre-check keeps 200 runs fast; expect() only runs to explain a difference.
    if (!isDeepStrictEqual(actual, expected)) expect(actual, `after:\n${history.join('\n')}`).toEqual(expected);
    checkNextDeadline(machine, builder.model, history);
  }
}

/** The leader ticks at nextDeadline: later would let a lease overstay, earlier wastes a log entry. */
function checkNextDeadline(machine: QueueStateMachine, model: ReferenceQueues, history: readonly string[]): void {
  const reported = machine.nextDeadline();
  const due = model.nextDeadline();
  if (reported !== due) expect(reported, `nextDeadline after:\n${history.join('\n')}`).toBe(due);
}

const RUNS = { seed: 42, numRuns: 200 } as const;

function commandsOf(configs: readonly Partial<QueueConfig>[], ops: readonly Operation[]): { builder: CommandBuilder; commands: QueueCommand[] } {
  const builder = new CommandBuilder();
  const commands = builder.configure(configs);
  for (const command of commands) builder.step(command);
  for (const op of ops) {
    const command = builder.build(op);
    builder.step(command);
    commands.push(command);
  }
  return { builder, commands };
}

describe('QueueStateMachine against a reference model', () => {
  it('agrees on every result, stat, message status and deadline for any sequence of commands', () => {
    fc.assert(
      fc.property(scenario, ([configs, ops]) => checkAgainstModel(configs, ops)),
      RUNS,
    );
  });

  it('is deterministic: two machines fed the same commands return identical results and state', () => {
    fc.assert(
      fc.property(scenario, ([configs, ops]) => {
        const { builder, commands } = commandsOf(configs, ops);
        const replicas = [new QueueStateMachine(), new QueueStateMachine()] as const;
        const results = replicas.map((replica) => commands.map((command) => replica.apply(command)));
        expect(results[1]).toEqual(results[0]);
        const [first, second] = replicas;
        expect(second.nextDeadline()).toBe(first.nextDeadline());
        expect(observe(second, new Set(builder.issued))).toEqual(observe(first, new Set(builder.issued)));
      }),
      RUNS,
    );
  });

  it('restores from a snapshot taken at any point to a machine that behaves exactly like the original', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ([configs, ops], cut) => {
        const { builder, commands } = commandsOf(configs, ops);
        const split = cut % (commands.length + 1);
        const original = new QueueStateMachine();
        for (const command of commands.slice(0, split)) original.apply(command);
        const restored = new QueueStateMachine();
        restored.restore(original.snapshot());
        const rest = commands.slice(split);
        expect(rest.map((command) => restored.apply(command))).toEqual(rest.map((command) => original.apply(command)));
        expect(restored.nextDeadline()).toBe(original.nextDeadline());
        expect(observe(restored, new Set(builder.issued))).toEqual(observe(original, new Set(builder.issued)));
      }),
      RUNS,
    );
  });
});
