import { assert } from '../shared/index.ts';
import type { AckedStatus, DeadStatus } from './message-status.ts';
import { MinHeap } from './min-heap.ts';
import type { RetentionLimits } from './queue-config.ts';

/** An acked or dead message, remembered without its body until `forgetAt`. */
export interface RetainedRecord {
  readonly status: AckedStatus | DeadStatus;
  readonly forgetAt: number;
  /** What the record holds beyond its fixed fields, counted against RetentionLimits.bytesMax. */
  readonly bytes: number;
}

/**
 * Forgetting is swept on whole seconds: a record's deadline is rounded up to this grain, so that
 * a steady stream of acks asks the leader for one tick a second, not one per ack. Reads never see a
 * record past its `forgetAt`, swept or not.
 */
export const RETENTION_SWEEP_GRAIN_MS = 1000;

/** Soonest forgotten first; between equals, the older message (each queue numbers its seqs once). */
const soonestForgotten = (a: RetainedRecord, b: RetainedRecord) => (a.forgetAt !== b.forgetAt ? a.forgetAt < b.forgetAt : a.status.seq < b.status.seq);

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

  /** Remembers a message that was just acked or dead-lettered, for `retentionMs` from `now`. */
  remember(now: number, status: AckedStatus | DeadStatus, retentionMs: number): void {
    this.forget(now);
    if (retentionMs <= 0) return;
    this.add({ status, forgetAt: now + retentionMs, bytes: retainedBytes(status) });
    while (this.records.size > this.limits.recordsMax || this.bytes > this.limits.bytesMax) this.dropSoonest();
  }

  /** Drops every record whose time is up. */
  forget(now: number): void {
    for (let top = this.byForgetAt.peek(); top !== undefined && top.forgetAt <= now; top = this.byForgetAt.peek()) this.dropSoonest();
  }

  find(id: string, now: number): AckedStatus | DeadStatus | undefined {
    const record = this.records.get(id);
    return record !== undefined && record.forgetAt > now ? record.status : undefined;
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
    assert(!this.records.has(record.status.id), 'a message is remembered once');
    this.records.set(record.status.id, record);
    this.byForgetAt.push(record);
    this.bytes += record.bytes;
  }

  private dropSoonest(): void {
    const record = this.byForgetAt.pop();
    assert(record !== undefined, 'dropping from an empty retention store');
    assert(this.records.get(record.status.id) === record, 'retention heap and map out of step');
    this.records.delete(record.status.id);
    this.bytes -= record.bytes;
  }
}

/**
 * The variable part of a record: its result and the error texts of its attempts, as JSON
 * characters. Every replica counts the same, which is all a bound in the log needs.
 */
export function retainedBytes(status: AckedStatus | DeadStatus): number {
  const result = status.state === 'acked' && status.result !== undefined ? (JSON.stringify(status.result)?.length ?? 0) : 0;
  const histories = [status.history, status.deadLetter?.history ?? []];
  let errors = 0;
  for (const history of histories) for (const attempt of history) errors += attempt.error?.length ?? 0;
  return result + errors;
}
