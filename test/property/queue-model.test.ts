import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type QueueCommand, type QueueConfig, type QueueResult, QueueStateMachine, type RetentionLimits } from '../../src/queue/index.ts';
import { decode } from '../../src/shared/codec.ts';
import { ReferenceQueues } from './reference-queues.ts';

// ---------------------------------------------------------------------------------------------
// Operations: generated abstractly, then made concrete against the model's state so that ids and
// receipts name real (or deliberately stale or unknown) messages.
// ---------------------------------------------------------------------------------------------

/** Two queues producers use, and their default dead-letter queues, which consumers drain. */
const QUEUES = ['alpha', 'beta', 'alpha.dlq', 'beta.dlq'] as const;
const PRODUCER_QUEUES = 2;

/** Small, so that runs reach both bounds on remembered messages. */
const RETENTION_LIMITS: RetentionLimits = { recordsMax: 4, bytesMax: 16 };

interface MessageSpec {
  readonly priority: number;
  readonly delayMs: number;
  readonly dedupKey: number | null;
  readonly bytes: number;
  /** null: the queue's messageTtlMs; 0: never expires. */
  readonly ttlMs: number | null;
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
  /** `createWith`: what the leader writes when it sees no such queue (null: none, as entries from before it). */
  | { readonly kind: 'enqueue'; readonly queue: number; readonly dt: number; readonly messages: readonly MessageSpec[]; readonly createWith: number | null }
  | { readonly kind: 'receive'; readonly queue: number; readonly dt: number; readonly max: number; readonly visibilityMs: number | null }
  | {
      readonly kind: 'ack' | 'nack' | 'extend';
      readonly queue: number;
      readonly dt: number;
      readonly targets: readonly TargetSpec[];
      readonly durationMs: number | null;
      /** ack: results for the receipts, cycled to their number; nack: the error text. */
      readonly results: readonly unknown[] | null;
      readonly error: string | null;
      readonly seed: number;
    }
  | { readonly kind: 'configure'; readonly queue: number; readonly dt: number; readonly config: Partial<QueueConfig> }
  | { readonly kind: 'tick'; readonly dt: number }
  | { readonly kind: 'purge' | 'delete'; readonly queue: number; readonly dt: number }
  | { readonly kind: 'pause'; readonly queue: number; readonly dt: number; readonly paused: boolean }
  /** `to`: an index into QUEUES, or null for each message's origin. */
  | { readonly kind: 'redrive'; readonly queue: number; readonly dt: number; readonly to: number | null; readonly max: number }
  /** Replaces the machine by one restored from its snapshot; the model does not notice. */
  /** Picks live messages (delayed ones mostly), or any id ever issued. */
  | { readonly kind: 'promote'; readonly queue: number; readonly dt: number; readonly picks: readonly number[]; readonly anyIssued: boolean }
  | { readonly kind: 'clusterVersion'; readonly dt: number; readonly version: number }
  | { readonly kind: 'snapshot' };

/** Producer queues mostly, dead-letter queues sometimes. */
const queueIndex = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: PRODUCER_QUEUES - 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: QUEUES.length - 1 }) },
);

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
  ttlMs: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: grid(1, 30) }),
});

const targetSpec: fc.Arbitrary<TargetSpec> = fc.record({
  pick: fc.nat({ max: 1000 }),
  pool: fc.constantFrom('leased', 'leased', 'live', 'issued'),
  asReceipt: fc.boolean(),
  stale: fc.integer({ min: 0, max: 3 }).map((roll) => roll === 0),
});

const resultValue = fc.constantFrom<unknown>(null, 7, 'done', { ok: true }, [1, 2], 'a longer result text');

function settle(kind: 'ack' | 'nack' | 'extend', durationMs: fc.Arbitrary<number | null>) {
  return fc.record({
    kind: fc.constant(kind),
    queue: queueIndex,
    dt: timeStep,
    targets: fc.array(targetSpec, { minLength: 1, maxLength: 3 }),
    durationMs,
    results: kind === 'ack' ? fc.option(fc.array(resultValue, { minLength: 1, maxLength: 3 }), { freq: 2 }) : fc.constant(null),
    error: kind === 'nack' ? fc.option(fc.constantFrom('', 'boom', 'timeout talking to db'), { freq: 2 }) : fc.constant(null),
    seed: fc.integer({ min: 0, max: 0xffff_ffff }),
  });
}

/** Any subset of the settings: deliveries, TTL and retention interact with everything else. */
function configOf(queue: number): fc.Arbitrary<Partial<QueueConfig>> {
  const others = QUEUES.slice(0, PRODUCER_QUEUES).filter((_, index) => index !== queue);
  return fc
    .record(
      {
        visibilityMs: grid(1, 30),
        maxDeliveries: fc.integer({ min: 0, max: 3 }),
        deadLetterQueue: fc.constantFrom(`${QUEUES[queue]}.dlq`, ...others),
        baseMs: grid(0, 10),
        extraMs: grid(0, 30),
        dedupWindowMs: grid(1, 15),
        maxLength: fc.integer({ min: 3, max: 15 }),
        maxBytes: fc.integer({ min: 10, max: 80 }),
        messageTtlMs: fc.oneof(fc.constant(0), grid(1, 40)),
        retentionMs: fc.oneof(fc.constant(0), grid(1, 150)),
      },
      { requiredKeys: [] },
    )
    .map(({ baseMs, extraMs, ...rest }) => (baseMs === undefined ? rest : { ...rest, backoff: { baseMs, maxMs: baseMs + (extraMs ?? 0) } }));
}

const configure = queueIndex.chain((queue) =>
  fc.record({ kind: fc.constant('configure' as const), queue: fc.constant(queue), dt: timeStep, config: configOf(queue) }),
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('enqueue' as const),
      queue: queueIndex,
      dt: timeStep,
      messages: fc.array(messageSpec, { minLength: 1, maxLength: 4 }),
      createWith: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }),
    }),
  },
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
  { weight: 3, arbitrary: settle('nack', fc.oneof(fc.constant(null), fc.constant(null), fc.constant(0), grid(1, 15))) },
  { weight: 2, arbitrary: settle('extend', grid(0, 20)) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: grid(0, 25) }) },
  { weight: 1, arbitrary: configure },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('purge' as const, 'delete' as const), queue: queueIndex, dt: timeStep }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), queue: queueIndex, dt: timeStep, paused: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('redrive' as const),
      // From a dead-letter queue mostly: that is where messages have an origin to go back to.
      queue: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: PRODUCER_QUEUES, max: QUEUES.length - 1 }) }, { weight: 1, arbitrary: queueIndex }),
      dt: timeStep,
      to: fc.option(queueIndex, { freq: 2 }),
      max: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('promote' as const),
      queue: queueIndex,
      dt: timeStep,
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      anyIssued: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clusterVersion' as const), dt: timeStep, version: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
);

/** Per-queue settings, then the commands; long runs so leases, retries, expiries and windows interact. */
const scenario = fc.tuple(fc.tuple(configOf(0), configOf(1)), fc.array(operation, { maxLength: 70, size: 'max' }));

/** Turns abstract operations into commands, stepping the model so later picks see current ids. */
class CommandBuilder {
  readonly model = new ReferenceQueues(RETENTION_LIMITS);
  /** Every id the model has handed out, in order, so an operation can name one by index. */
  readonly issued: string[] = [];
  private ts = 0;
  private bodies = 0;

  configure(configs: readonly Partial<QueueConfig>[]): QueueCommand[] {
    return configs.map((config, index) => ({ type: 'configure', ts: 0, queue: QUEUES[index]!, config }));
  }

  build(op: Exclude<Operation, { kind: 'snapshot' }>): QueueCommand {
    this.ts += op.dt;
    const ts = this.ts;
    switch (op.kind) {
      case 'tick':
        return { type: 'tick', ts };
      case 'purge':
      case 'delete':
        return { type: op.kind, ts, queue: this.queueName(op.queue) };
      case 'configure':
        return { type: 'configure', ts, queue: this.queueName(op.queue), config: op.config };
      case 'pause':
        return { type: 'pause', ts, queue: this.queueName(op.queue), paused: op.paused };
      case 'redrive': {
        const command = { type: 'redrive' as const, ts, queue: this.queueName(op.queue), max: op.max };
        return op.to === null ? command : { ...command, to: this.queueName(op.to) };
      }
      case 'receive':
        return { type: 'receive', ts, queue: this.queueName(op.queue), max: op.max, visibilityMs: op.visibilityMs ?? undefined };
      case 'enqueue': {
        const messages = op.messages.map((spec) => ({
          body: { n: this.bodies++ },
          priority: spec.priority,
          delayMs: spec.delayMs,
          bytes: spec.bytes,
          ...(spec.dedupKey === null ? {} : { dedupId: `k${spec.dedupKey}` }),
          ...(spec.ttlMs === null ? {} : { ttlMs: spec.ttlMs }),
        }));
        const createWith = op.createWith === null ? {} : { createWith: { maxDeliveries: op.createWith } };
        return { type: 'enqueue', ts, queue: this.queueName(op.queue), messages, ...createWith };
      }
      case 'ack':
      case 'nack':
      case 'extend':
        return this.settleCommand(op, ts);
      case 'promote': {
        const queue = this.queueName(op.queue);
        const delayed = this.model.idsIn(queue, 'delayed');
        const pool = [op.anyIssued ? [] : delayed, this.model.idsIn(queue, 'live'), [...this.issued, 'never-issued']].find((ids) => ids.length > 0)!;
        return { type: 'promote', ts, queue, ids: op.picks.map((pick) => pool[pick % pool.length]!) };
      }
      case 'clusterVersion':
        return { type: 'clusterVersion', ts, version: op.version };
    }
  }

  private settleCommand(op: Extract<Operation, { kind: 'ack' | 'nack' | 'extend' }>, ts: number): QueueCommand {
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
    if (op.kind === 'ack') {
      const values = op.results;
      return values === null ? { type: 'ack', ...base } : { type: 'ack', ...base, results: receipts.map((_, index) => values[index % values.length]) };
    }
    if (op.kind === 'nack')
      return { type: 'nack', ...base, delayMs: op.durationMs ?? undefined, seed: op.seed, ...(op.error === null ? {} : { error: op.error }) };
    return { type: 'extend', ...base, visibilityMs: op.durationMs ?? 0 };
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

type Observable = Pick<QueueStateMachine, 'clock' | 'list' | 'hasDeliverable' | 'messageStatus'>;

/** Everything a client could read back, for the ids that the step could have touched, in every queue. */
function observe(machine: Observable, ids: ReadonlySet<string>) {
  const names = [...new Set([...QUEUES, ...machine.list().map((stats) => stats.name)])];
  return {
    clock: machine.clock,
    queues: machine.list(),
    hasDeliverable: names.map((queue) => machine.hasDeliverable(queue)),
    statuses: names.flatMap((queue) => [...ids].map((id) => [queue, id, machine.messageStatus(queue, id)])),
  };
}

function idsNamedBy(command: QueueCommand, result: QueueResult): string[] {
  const named: string[] = [];
  if ('ids' in command) named.push(...command.ids);
  if ('receipts' in command) named.push(...command.receipts.map((receipt) => receipt.slice(0, receipt.lastIndexOf(':'))));
  if (result.type === 'enqueued') named.push(...result.ids);
  if (result.type === 'received') named.push(...result.messages.map((message) => message.id));
  return named;
}

function restoredCopy(machine: QueueStateMachine): QueueStateMachine {
  const restored = new QueueStateMachine(RETENTION_LIMITS);
  restored.restore(machine.snapshot());
  return restored;
}

function checkAgainstModel(configs: readonly Partial<QueueConfig>[], ops: readonly Operation[]): void {
  let machine = new QueueStateMachine(RETENTION_LIMITS);
  const builder = new CommandBuilder();
  const history: string[] = [];
  const pending: (QueueCommand | Operation)[] = [...builder.configure(configs), ...ops];
  for (const next of pending) {
    // Every id live or remembered before or after the step, plus any it named: so an id that was
    // acked, forgotten, purged or never existed is checked to be unknown to the machine too.
    const ids = new Set(builder.model.knownIds());
    if ('kind' in next && next.kind === 'snapshot') {
      history.push('snapshot + restore');
      machine = restoredCopy(machine);
      compare(machine, builder.model, { result: null }, ids, history);
      continue;
    }
    const command = 'kind' in next ? builder.build(next) : next;
    history.push(JSON.stringify(command));
    const expectedResult = builder.step(command);
    const actualResult = machine.apply(command);
    for (const id of [...builder.model.knownIds(), ...idsNamedBy(command, expectedResult)]) ids.add(id);
    compare(machine, builder.model, { result: comparable(actualResult), expected: comparable(expectedResult) }, ids, history);
  }
}

function compare(
  machine: QueueStateMachine,
  model: ReferenceQueues,
  results: { result: unknown; expected?: unknown },
  ids: ReadonlySet<string>,
  history: readonly string[],
): void {
  const expected = { result: results.expected ?? results.result, ...observe(model, ids) };
  const actual = { result: results.result, ...observe(machine, ids) };
  // A deep-equality pre-check keeps 200 runs fast; expect() only runs to explain a difference.
  if (!isDeepStrictEqual(actual, expected)) expect(actual, `after:\n${history.join('\n')}`).toEqual(expected);
  // The leader ticks at nextDeadline: later would let a lease overstay, earlier wastes a log entry.
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
    if (op.kind === 'snapshot') continue;
    const command = builder.build(op);
    builder.step(command);
    commands.push(command);
  }
  return { builder, commands };
}

describe('QueueStateMachine against a reference model', () => {
  it('agrees on every result, stat, message status and deadline for any sequence of commands, snapshots included', () => {
    fc.assert(
      fc.property(scenario, ([configs, ops]) => checkAgainstModel(configs, ops)),
      RUNS,
    );
  });

  it('is deterministic: two machines fed the same commands return identical results and state', () => {
    fc.assert(
      fc.property(scenario, ([configs, ops]) => {
        const { builder, commands } = commandsOf(configs, ops);
        const replicas = [new QueueStateMachine(RETENTION_LIMITS), new QueueStateMachine(RETENTION_LIMITS)] as const;
        const results = replicas.map((replica) => commands.map((command) => replica.apply(command)));
        expect(results[1]).toEqual(results[0]);
        const [first, second] = replicas;
        expect(second.nextDeadline()).toBe(first.nextDeadline());
        expect(observe(second, new Set(builder.issued))).toEqual(observe(first, new Set(builder.issued)));
      }),
      RUNS,
    );
  });

  it('encodes a snapshot, over steps taken while it goes on applying, as the state was when the snapshot was taken', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), ([configs, ops], starts) => {
        const { commands } = commandsOf(configs, ops);
        const machine = new QueueStateMachine(RETENTION_LIMITS);
        const startAt = new Set(starts.map((start) => start % commands.length));
        // One message per step, so that the encodings of even short queues span many commands.
        const inFlight: { encoding: ReturnType<QueueStateMachine['snapshotEncoding']>; expected: unknown; takenAfter: number }[] = [];
        const stepEach = () => {
          for (const pending of [...inFlight]) {
            if (!pending.encoding.step()) continue;
            const actual = decode(pending.encoding.bytes());
            if (!isDeepStrictEqual(actual, pending.expected)) expect(actual, `snapshot taken after ${pending.takenAfter} commands`).toEqual(pending.expected);
            inFlight.splice(inFlight.indexOf(pending), 1);
          }
        };
        commands.forEach((command, index) => {
          if (startAt.has(index)) inFlight.push({ encoding: machine.snapshotEncoding(1), expected: decode(machine.snapshot()), takenAfter: index });
          machine.apply(command);
          stepEach();
        });
        while (inFlight.length > 0) stepEach();
      }),
      RUNS,
    );
  });

  it('restores from a snapshot taken at any point to a machine that behaves exactly like the original', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ([configs, ops], cut) => {
        const { builder, commands } = commandsOf(configs, ops);
        const split = cut % (commands.length + 1);
        const original = new QueueStateMachine(RETENTION_LIMITS);
        for (const command of commands.slice(0, split)) original.apply(command);
        const restored = restoredCopy(original);
        const rest = commands.slice(split);
        expect(rest.map((command) => restored.apply(command))).toEqual(rest.map((command) => original.apply(command)));
        expect(restored.nextDeadline()).toBe(original.nextDeadline());
        expect(observe(restored, new Set(builder.issued))).toEqual(observe(original, new Set(builder.issued)));
      }),
      RUNS,
    );
  });
});
