// A Jepsen-style history of client operations against the queue, and a recorder that builds one.
// Every operation is an invocation followed, on the same process, by one completion:
//   ok   — the server said it happened;
//   fail — it definitely did not happen (a 4xx, or 503 NO_LEADER before anything was sent);
//   info — unknown (a timeout or a dropped connection after the request went out). Never call that a fail:
//          the checker would then flag a perfectly legal delivery as a violation.
import { assert } from '../../src/shared/index.ts';

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export type CompletionType = Exclude<EventType, 'invoke'>;
export type OperationName = 'enqueue' | 'receive' | 'ack' | 'pause' | 'promote';

/** The value a producer enqueues: unique across the run, `<producer>-<sequence>` such as "p3-17". */
export interface EnqueueValue {
  readonly value: string;
  readonly dedupId: string;
  /** The id the server assigned, when an ok completion carries it. */
  readonly id?: string;
  /** Asked for with a delay: it joins the line when the delay ends (or a promote), so FIFO order does not hold it. */
  readonly delayMs?: number;
}

export interface DeliveredMessage {
  readonly value: string;
  readonly id: string;
  readonly receipt: string;
  readonly attempt: number;
}

export interface AckValue {
  readonly receipts: readonly string[];
  /** On an ok completion: the receipts the server refused (LEASE_EXPIRED, NOT_FOUND), which were not acked. */
  readonly rejected?: readonly string[];
}

interface EventBase {
  readonly process: number;
  readonly type: EventType;
  /** Milliseconds on a monotonic clock; never decreases along the history. */
  readonly time: number;
  readonly node?: string;
}

export interface EnqueueEvent extends EventBase {
  readonly f: 'enqueue';
  readonly value: EnqueueValue;
}

export interface ReceiveEvent extends EventBase {
  readonly f: 'receive';
  /** The delivered messages on an ok completion, in delivery order; null on every other event. */
  readonly value: readonly DeliveredMessage[] | null;
}

export interface AckEvent extends EventBase {
  readonly f: 'ack';
  readonly value: AckValue;
}

/** An operator pausing (`paused: true`) or resuming the queue. */
export interface PauseEvent extends EventBase {
  readonly f: 'pause';
  readonly value: { readonly paused: boolean };
}

/** An operator making delayed messages ready now; `promoted` on an ok completion. */
export interface PromoteEvent extends EventBase {
  readonly f: 'promote';
  readonly value: PromoteValue;
}

export interface PromoteValue {
  readonly ids: readonly string[];
  readonly promoted?: number;
}

export type HistoryEvent = EnqueueEvent | ReceiveEvent | AckEvent | PauseEvent | PromoteEvent;
export type History = readonly HistoryEvent[];

/** What a client is about to do or has just done, without the bookkeeping the recorder adds. */
export type Operation =
  | { readonly f: 'enqueue'; readonly value: EnqueueValue }
  | { readonly f: 'receive'; readonly value: readonly DeliveredMessage[] | null }
  | { readonly f: 'ack'; readonly value: AckValue }
  | { readonly f: 'pause'; readonly value: { readonly paused: boolean } }
  | { readonly f: 'promote'; readonly value: PromoteValue };

/**
 * Appends events in the order they happen, so the position in the history is a true real-time order
 * even when two events share a millisecond. One outstanding operation per process, as in Jepsen:
 * a process that needs concurrency uses more process numbers.
 */
export class HistoryRecorder {
  private readonly recorded: HistoryEvent[] = [];
  private readonly open = new Map<number, OperationName>();
  private lastTime = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  invoke(process: number, operation: Operation, node?: string): HistoryEvent {
    assert(!this.open.has(process), `process ${process} invoked ${operation.f} with an operation still open`);
    this.open.set(process, operation.f);
    return this.append(process, 'invoke', operation, node);
  }

  complete(process: number, type: CompletionType, operation: Operation, node?: string): HistoryEvent {
    const invoked = this.open.get(process);
    assert(invoked !== undefined, `process ${process} completed ${operation.f} without invoking it`);
    assert(invoked === operation.f, `process ${process} invoked ${invoked} but completed ${operation.f}`);
    this.open.delete(process);
    return this.append(process, type, operation, node);
  }

  /** Processes whose operation never completed; the checker treats them as info. */
  get openProcesses(): number[] {
    return [...this.open.keys()];
  }

  get history(): History {
    return this.recorded;
  }

  private append(process: number, type: EventType, operation: Operation, node: string | undefined): HistoryEvent {
    const time = this.clock();
    assert(time >= this.lastTime, `the history clock went backwards: ${time} < ${this.lastTime}`);
    this.lastTime = time;
    const event = { process, type, time, ...(node === undefined ? {} : { node }), ...operation };
    this.recorded.push(event);
    return event;
  }
}
