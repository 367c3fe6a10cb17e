import { type AttemptRecord, assert, type DeadLetterOrigin } from '../shared/index.ts';
import { MinHeap } from './min-heap.ts';
import type { RetentionLimits } from './queue-config.ts';
import type { StoredMessage } from './queue-message.ts';

/**
 * An acked or dead message, remembered without its body until `forgetAt`. One flat shape with
 * every field present (undefined when it does not apply), built by one literal: a queue may hold
 * 10,000 of these, and V8 keeps such objects compact, unlike spread-built ones.
 */
export interface RetainedRecord {
  readonly id: string;
  readonly seq: number;
  readonly attempt: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly history: readonly AttemptRecord[];
  /** 0 = the message had no TTL. */
  readonly expiresAt: number;
  readonly deadLetter: DeadLetterOrigin | undefined;
  readonly state: 'acked' | 'dead';
  /** When it was acked, or died. */
  readonly at: number;
  /** Acked only; undefined = the ack carried none (JSON has no undefined, so none is lost). */
  readonly result: unknown;
  /** Dead only: why, where it went, and its id there. */
  readonly deadReason: DeadLetterOrigin['reason'] | undefined;
  readonly deadLetterQueue: string | undefined;
  readonly deadLetterId: string | undefined;
  readonly forgetAt: number;
  /** What the record holds beyond its fixed fields, counted against RetentionLimits.bytesMax. */
  readonly bytes: number;
}

type Outcome =
  | { readonly state: 'acked'; readonly result: unknown }
  | { readonly state: 'dead'; readonly origin: DeadLetterOrigin; readonly deadLetterQueue: string; readonly deadLetterId: string };

/** The record of a message that was acked or died at `at`, to be forgotten at `forgetAt`. */
export function retainedRecord(message: StoredMessage, at: number, forgetAt: number, outcome: Outcome): RetainedRecord {
  const dead = outcome.state === 'dead' ? outcome : undefined;
  const result = outcome.state === 'acked' ? outcome.result : undefined;
  assert(dead === undefined || dead.origin.id === message.id, 'a dead record names its own message');
  return {
    id: message.id,
    seq: message.seq,
    attempt: message.attempt,
    priority: message.priority,
    enqueuedAt: message.enqueuedAt,
    history: message.history,
    expiresAt: message.expiresAt,
    deadLetter: message.deadLetter,
    state: outcome.state,
    at,
    result,
    deadReason: dead?.origin.reason,
    deadLetterQueue: dead?.deadLetterQueue,
    deadLetterId: dead?.deadLetterId,
    forgetAt,
    bytes: retainedBytes(message, result),
  };
}

/**
 * Forgetting is swept on whole seconds: a record's deadline is rounded up to this grain, so that
 * a steady stream of acks asks the leader for one tick a second, not one per ack. Reads never see a
 * record past its `forgetAt`, swept or not.
 */
export const RETENTION_SWEEP_GRAIN_MS = 1000;

/** Soonest forgotten first; between equals, the older message (each queue numbers its seqs once). */
const soonestForgotten = (a: RetainedRecord, b: RetainedRecord) => (a.forgetAt !== b.forgetAt ? a.forgetAt < b.forgetAt : a.seq < b.seq);

/**
 * One queue's acked and dead messages, for the status route. Bounded three ways: by time
 * (`retentionMs`), by count and by bytes; past a bound the record due to be forgotten soonest goes.
 * Every record is in both the map and the heap, so nothing here is removed lazily.
 */
export class RetainedRecords {
  private readonly records = new Map<string, RetainedRecord>();
  private readonly byForgetAt = new MinHeap<RetainedRecord>(soonestForgotten);
  private bytes = 0;

  constructor(private readonly limits: RetentionLimits) {}

  /** Remembers a message that was just acked or dead-lettered, unless its time is up already (retentionMs 0). */
  remember(now: number, record: RetainedRecord): void {
    this.forget(now);
    if (record.forgetAt <= now) return;
    this.add(record);
    while (this.records.size > this.limits.recordsMax || this.bytes > this.limits.bytesMax) this.dropSoonest();
  }

  /** Drops every record whose time is up. */
  forget(now: number): void {
    for (let top = this.byForgetAt.peek(); top !== undefined && top.forgetAt <= now; top = this.byForgetAt.peek()) this.dropSoonest();
  }

  find(id: string, now: number): RetainedRecord | undefined {
    const record = this.records.get(id);
    return record !== undefined && record.forgetAt > now ? record : undefined;
  }

  /** When a tick would next forget something, on the sweep grain. */
  nextSweep(): number | undefined {
    const top = this.byForgetAt.peek();
    return top === undefined ? undefined : Math.ceil(top.forgetAt / RETENTION_SWEEP_GRAIN_MS) * RETENTION_SWEEP_GRAIN_MS;
  }

  values(): readonly RetainedRecord[] {
    return this.byForgetAt.values();
  }

  /** Rebuilds the store from a snapshot's records. */
  static restore(records: readonly RetainedRecord[], limits: RetentionLimits): RetainedRecords {
    const store = new RetainedRecords(limits);
    for (const record of records) store.add(record);
    return store;
  }

  private add(record: RetainedRecord): void {
    assert(!this.records.has(record.id), 'a message is remembered once');
    this.records.set(record.id, record);
    this.byForgetAt.push(record);
    this.bytes += record.bytes;
  }

  private dropSoonest(): void {
    const record = this.byForgetAt.pop();
    assert(record !== undefined, 'dropping from an empty retention store');
    assert(this.records.get(record.id) === record, 'retention heap and map out of step');
    this.records.delete(record.id);
    this.bytes -= record.bytes;
  }
}

/**
 * The variable part of a record: its result and the error texts of its attempts, as JSON
 * characters. Every replica counts the same, which is all a bound in the log needs.
 */
function retainedBytes(message: StoredMessage, result: unknown): number {
  let bytes = result === undefined ? 0 : (JSON.stringify(result)?.length ?? 0);
  for (const history of [message.history, message.deadLetter?.history ?? []]) {
    for (const attempt of history) bytes += attempt.error?.length ?? 0;
  }
  return bytes;
}
