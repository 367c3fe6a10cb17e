import {
  type DeliveredMessage,
  type MessageStatus,
  type NewMessage,
  type QueueConfig,
  type QueueResult,
  QueueStateMachine,
  type QueueStats,
  type RetentionLimits,
} from '../../src/queue/index.ts';

export type ResultOf<T extends QueueResult['type']> = Extract<QueueResult, { type: T }>;

export function expectType<T extends QueueResult['type']>(result: QueueResult, type: T): ResultOf<T> {
  if (result.type !== type) throw new Error(`expected a '${type}' result, got ${JSON.stringify(result)}`);
  return result as ResultOf<T>;
}

export function message(body: string, overrides: Partial<NewMessage> = {}): NewMessage {
  return { body, priority: 0, delayMs: 0, bytes: 1, ...overrides };
}

interface Selection {
  readonly ids?: string[];
  readonly receipts?: string[];
}

/** A machine plus terse helpers for one queue; every call names its `ts` so each test reads as a timeline. */
export class Queue {
  readonly machine: QueueStateMachine;

  constructor(
    readonly name = 'q',
    limits?: RetentionLimits,
    machine?: QueueStateMachine,
  ) {
    this.machine = machine ?? new QueueStateMachine(limits);
  }

  /** Another queue of the same machine (its dead-letter queue, say). */
  sibling(name: string): Queue {
    return new Queue(name, undefined, this.machine);
  }

  configure(ts: number, config: Partial<QueueConfig>): void {
    expectType(this.machine.apply({ type: 'configure', ts, queue: this.name, config }), 'configured');
  }

  enqueue(ts: number, ...messages: NewMessage[]): ResultOf<'enqueued'> {
    return expectType(this.machine.apply({ type: 'enqueue', ts, queue: this.name, messages }), 'enqueued');
  }

  receive(ts: number, max: number, visibilityMs?: number): DeliveredMessage[] {
    return expectType(this.machine.apply({ type: 'receive', ts, queue: this.name, max, visibilityMs }), 'received').messages;
  }

  bodies(ts: number, max: number, visibilityMs?: number): unknown[] {
    return this.receive(ts, max, visibilityMs).map((delivered) => delivered.body);
  }

  ack(ts: number, selector: Selection, results?: unknown[]): ResultOf<'settled'> {
    const command = { type: 'ack', ts, queue: this.name, ids: selector.ids ?? [], receipts: selector.receipts ?? [] } as const;
    return expectType(this.machine.apply(results === undefined ? command : { ...command, results }), 'settled');
  }

  nack(ts: number, selector: Selection, delayMs?: number, extra: { seed?: number; error?: string } = {}): ResultOf<'settled'> {
    const command = { type: 'nack', ts, queue: this.name, ids: selector.ids ?? [], receipts: selector.receipts ?? [], delayMs, seed: 0, ...extra } as const;
    return expectType(this.machine.apply(command), 'settled');
  }

  extend(ts: number, selector: Selection, visibilityMs: number): ResultOf<'settled'> {
    const command = { type: 'extend', ts, queue: this.name, ids: selector.ids ?? [], receipts: selector.receipts ?? [], visibilityMs } as const;
    return expectType(this.machine.apply(command), 'settled');
  }

  tick(ts: number): void {
    expectType(this.machine.apply({ type: 'tick', ts }), 'ticked');
  }

  stats(name = this.name): QueueStats {
    const stats = this.machine.stats(name);
    if (stats === undefined) throw new Error(`queue ${name} does not exist`);
    return stats;
  }

  counts(): Pick<QueueStats, 'ready' | 'inflight' | 'delayed' | 'enqueued' | 'acked'> {
    const { ready, inflight, delayed, enqueued, acked } = this.stats();
    return { ready, inflight, delayed, enqueued, acked };
  }

  status(id: string, name = this.name): MessageStatus | undefined {
    return this.machine.messageStatus(name, id);
  }
}
