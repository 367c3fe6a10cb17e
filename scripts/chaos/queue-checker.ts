// The queue checker (RELIABILITY §1): what "nothing lost" means, decided from a history alone.
// Real-time precedence between operations is taken from positions in the history, not from the ms
// timestamps: the recorder appends events as they happen, so positions order ties truthfully.
import { assert, unreachable } from '../../src/shared/index.ts';
import { checkEveryValueAcked, type NeverAckedFinding } from './dead-letter-checker.ts';
import type { DeliveredMessage, History, HistoryEvent } from './history.ts';
import { checkPauses, type PauseFindings } from './pause-checker.ts';

export interface QueueCheckOptions {
  /** The queue was drained to empty after every fault healed; without it "lost" means nothing. */
  readonly drained: boolean;
  /** Order inversions invalidate the run; when false they are only warnings. */
  readonly strictOrder: boolean;
  /** The lease every receive asked for: a redelivery sooner than that ended a lease early. */
  readonly visibilityMs?: number;
  readonly examplesMax?: number;
  /** The run dead-lettered and redrove until both queues were empty: every acknowledged value must have been acked. */
  readonly everyValueAcked?: boolean;
}

export interface Finding<T> {
  readonly count: number;
  readonly examples: readonly T[];
}

export interface DuplicateExample {
  readonly value: string;
  readonly deliveries: number;
}
export interface AckedTwiceExample {
  readonly value: string;
  readonly acks: number;
}
export interface RedeliveryExample {
  readonly value: string;
  readonly id: string;
  readonly receipt: string;
  readonly ackedAtMs: number;
  readonly receiveInvokedAtMs: number;
}
export interface EarlyLeaseEndExample {
  readonly value: string;
  readonly id: string;
  readonly attempt: number;
  /** From the receive that took the lease being sent to the redelivery being seen. */
  readonly heldMs: number;
}
export interface IdConflictExample {
  readonly id: string;
  readonly values: readonly string[];
}
export interface OrderInversionExample {
  /** Acknowledged before `deliveredFirst` was even invoked, yet first delivered after it. */
  readonly enqueuedFirst: string;
  readonly deliveredFirst: string;
}

export interface QueueCheckResult {
  readonly valid: boolean;
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly drained: boolean;
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly indeterminate: number;
  /** Distinct values delivered at least once. */
  readonly delivered: number;
  /** Every delivery, redeliveries included. */
  readonly deliveries: number;
  readonly lost: Finding<string>;
  readonly unexpected: Finding<string>;
  readonly failedDelivered: Finding<string>;
  readonly duplicated: Finding<DuplicateExample>;
  readonly recovered: Finding<string>;
  readonly ackedTwice: Finding<AckedTwiceExample>;
  readonly redeliveredAfterAck: Finding<RedeliveryExample>;
  readonly oneIdTwoBodies: Finding<IdConflictExample>;
  readonly orderInversions: Finding<OrderInversionExample>;
  readonly leasesEndedEarly: Finding<EarlyLeaseEndExample>;
  /** Receives that delivered while the queue was known paused (see `pause-checker.ts`). */
  readonly pauses: PauseFindings;
  /** Acknowledged values no ack ever named (checked only with `everyValueAcked`, see `dead-letter-checker.ts`). */
  readonly neverAcked: NeverAckedFinding;
  readonly longestUnavailabilityMs: number;
}

const EXAMPLES_MAX_DEFAULT = 20;

/** One invocation and its completion; `completion` is missing when the history ended first (an info). */
interface Operation {
  readonly invoke: HistoryEvent;
  readonly invokeIndex: number;
  readonly completion: HistoryEvent | undefined;
  readonly completionIndex: number;
}

type EnqueueOutcome = 'acknowledged' | 'failed' | 'indeterminate';

interface EnqueueRecord {
  readonly value: string;
  readonly firstInvokeIndex: number;
  /** Position of the earliest ok completion; Infinity until one arrives. */
  okIndex: number;
  outcome: EnqueueOutcome;
  /** Enqueued with a delay: it takes no part in the order check. */
  readonly delayed: boolean;
}

interface Delivery {
  readonly message: DeliveredMessage;
  readonly receiveOrdinal: number;
  readonly receiveInvokeIndex: number;
  readonly receiveCompletionIndex: number;
  readonly receiveInvokedAtMs: number;
  readonly receiveCompletedAtMs: number;
  readonly listIndex: number;
}

class FindingList<T> {
  count = 0;
  readonly examples: T[] = [];

  constructor(private readonly examplesMax: number) {}

  get full(): boolean {
    return this.examples.length >= this.examplesMax;
  }

  add(example: T): void {
    this.count++;
    if (!this.full) this.examples.push(example);
  }

  /** Counts findings past the example cap without building them. */
  tally(count: number): void {
    assert(count >= 0, `cannot tally ${count} findings`);
    this.count += count;
  }

  /** A plain snapshot, so results compare and serialize without the accumulator's internals. */
  toFinding(): Finding<T> {
    return { count: this.count, examples: [...this.examples] };
  }
}

export function checkQueueHistory(history: History, options: QueueCheckOptions): QueueCheckResult {
  const examplesMax = options.examplesMax ?? EXAMPLES_MAX_DEFAULT;
  assert(Number.isInteger(examplesMax) && examplesMax >= 0, `examplesMax must be a whole number, got ${examplesMax}`);
  const operations = pairOperations(history);
  const enqueues = classifyEnqueues(operations);
  const deliveries = collectDeliveries(operations);
  const deliveryCounts = countByValue(deliveries.map((delivery) => delivery.message.value));
  const outcomes = checkOutcomes(enqueues, deliveryCounts, examplesMax);
  const acks = checkAcks(operations, deliveries, examplesMax);
  const result = {
    drained: options.drained,
    attempted: enqueues.size,
    acknowledged: countOutcome(enqueues, 'acknowledged'),
    failed: countOutcome(enqueues, 'failed'),
    indeterminate: countOutcome(enqueues, 'indeterminate'),
    delivered: deliveryCounts.size,
    deliveries: deliveries.length,
    ...outcomes,
    ...acks,
    oneIdTwoBodies: checkIdBodies(deliveries, examplesMax),
    orderInversions: checkOrder(enqueues, deliveries, examplesMax),
    leasesEndedEarly: checkLeaseLengths(deliveries, options.visibilityMs, examplesMax),
    pauses: checkPauses(history, examplesMax),
    neverAcked: options.everyValueAcked === true ? checkEveryValueAcked(history, examplesMax) : { count: 0, examples: [] },
    longestUnavailabilityMs: longestUnavailabilityMs(history),
  };
  const { reasons, warnings } = judge(result, options);
  return { valid: reasons.length === 0, reasons, warnings, ...result };
}

type Judged = Omit<QueueCheckResult, 'valid' | 'reasons' | 'warnings'>;

function judge(result: Judged, options: QueueCheckOptions): { reasons: string[]; warnings: string[] } {
  const reasons: string[] = [];
  const warnings: string[] = [];
  if (!options.drained) reasons.push('the queue was not drained, so undelivered messages cannot be called lost');
  if (result.lost.count > 0) reasons.push(`${result.lost.count} acknowledged enqueues were never delivered`);
  if (result.unexpected.count > 0) reasons.push(`${result.unexpected.count} delivered values were never enqueued`);
  if (result.failedDelivered.count > 0) {
    reasons.push(`${result.failedDelivered.count} values whose enqueue definitely failed were delivered`);
  }
  if (result.redeliveredAfterAck.count > 0) {
    reasons.push(`${result.redeliveredAfterAck.count} deliveries came from receives begun after the message's ack completed`);
  }
  if (result.leasesEndedEarly.count > 0) reasons.push(`${result.leasesEndedEarly.count} leases ended before their visibility timeout`);
  if (result.oneIdTwoBodies.count > 0) reasons.push(`${result.oneIdTwoBodies.count} message ids carried two different values`);
  const whilePaused = result.pauses.deliveredWhilePaused.count;
  if (whilePaused > 0) reasons.push(`${whilePaused} receives delivered while the queue was known paused`);
  if (result.neverAcked.count > 0)
    reasons.push(`${result.neverAcked.count} acknowledged values were never acked, though the queue and its dead letters drained`);
  const inversions = `${result.orderInversions.count} order inversions within a producer`;
  if (result.orderInversions.count > 0 && options.strictOrder) reasons.push(inversions);
  if (result.orderInversions.count > 0 && !options.strictOrder) warnings.push(inversions);
  if (result.ackedTwice.count > 0) warnings.push(`${result.ackedTwice.count} values were acked ok more than once`);
  return { reasons, warnings };
}

function pairOperations(history: History): Operation[] {
  const operations: Operation[] = [];
  const open = new Map<number, { event: HistoryEvent; index: number }>();
  let previousTime = Number.NEGATIVE_INFINITY;
  history.forEach((event, index) => {
    assert(event.time >= previousTime, `event ${index} goes back in time: ${event.time} < ${previousTime}`);
    previousTime = event.time;
    const pending = open.get(event.process);
    if (event.type === 'invoke') {
      assert(pending === undefined, `event ${index}: process ${event.process} invoked with an operation still open`);
      open.set(event.process, { event, index });
      return;
    }
    assert(pending !== undefined, `event ${index}: process ${event.process} completed without an invocation`);
    assert(pending.event.f === event.f, `event ${index}: ${pending.event.f} invoked but ${event.f} completed`);
    open.delete(event.process);
    operations.push({ invoke: pending.event, invokeIndex: pending.index, completion: event, completionIndex: index });
  });
  // An operation still open when the history ends may or may not have taken effect: an info.
  for (const { event, index } of open.values()) {
    operations.push({ invoke: event, invokeIndex: index, completion: undefined, completionIndex: Number.POSITIVE_INFINITY });
  }
  return operations.sort((left, right) => left.invokeIndex - right.invokeIndex);
}

function classifyEnqueues(operations: readonly Operation[]): Map<string, EnqueueRecord> {
  const records = new Map<string, EnqueueRecord>();
  for (const operation of operations) {
    if (operation.invoke.f !== 'enqueue') continue;
    const value = operation.invoke.value.value;
    const delayed = (operation.invoke.value.delayMs ?? 0) > 0;
    const record = records.get(value) ?? { value, firstInvokeIndex: operation.invokeIndex, okIndex: Infinity, outcome: 'failed', delayed };
    records.set(value, record);
    const type = operation.completion?.type ?? 'info';
    switch (type) {
      case 'ok':
        record.outcome = 'acknowledged';
        record.okIndex = Math.min(record.okIndex, operation.completionIndex);
        break;
      case 'info':
        if (record.outcome === 'failed') record.outcome = 'indeterminate';
        break;
      case 'fail':
        break;
      case 'invoke':
        assert(false, 'a completion cannot be an invocation');
        break;
      default:
        unreachable(type, 'enqueue completion');
    }
  }
  return records;
}

function collectDeliveries(operations: readonly Operation[]): Delivery[] {
  const completed = operations.filter((operation) => operation.completion?.type === 'ok' && operation.invoke.f === 'receive');
  // Deliveries are listed in the order the client saw them, so "first delivery" means first seen.
  completed.sort((left, right) => left.completionIndex - right.completionIndex);
  const deliveries: Delivery[] = [];
  completed.forEach((operation, receiveOrdinal) => {
    const completion = operation.completion;
    assert(completion !== undefined && completion.f === 'receive', 'a completed receive has a receive completion');
    assert(completion.value !== null, `the receive completed at event ${operation.completionIndex} lists no messages`);
    completion.value.forEach((message, listIndex) => {
      deliveries.push({
        message,
        receiveOrdinal,
        receiveInvokeIndex: operation.invokeIndex,
        receiveCompletionIndex: operation.completionIndex,
        receiveInvokedAtMs: operation.invoke.time,
        receiveCompletedAtMs: completion.time,
        listIndex,
      });
    });
  });
  return deliveries;
}

function countByValue(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function countOutcome(enqueues: ReadonlyMap<string, EnqueueRecord>, outcome: EnqueueOutcome): number {
  let count = 0;
  for (const record of enqueues.values()) if (record.outcome === outcome) count++;
  return count;
}

type OutcomeFindings = Pick<QueueCheckResult, 'lost' | 'unexpected' | 'failedDelivered' | 'duplicated' | 'recovered'>;

function checkOutcomes(enqueues: ReadonlyMap<string, EnqueueRecord>, deliveryCounts: ReadonlyMap<string, number>, examplesMax: number): OutcomeFindings {
  const lost = new FindingList<string>(examplesMax);
  const unexpected = new FindingList<string>(examplesMax);
  const failedDelivered = new FindingList<string>(examplesMax);
  const duplicated = new FindingList<DuplicateExample>(examplesMax);
  const recovered = new FindingList<string>(examplesMax);
  for (const record of enqueues.values()) {
    const deliveries = deliveryCounts.get(record.value) ?? 0;
    if (record.outcome === 'acknowledged' && deliveries === 0) lost.add(record.value);
    if (record.outcome === 'failed' && deliveries > 0) failedDelivered.add(record.value);
    if (record.outcome === 'indeterminate' && deliveries > 0) recovered.add(record.value);
  }
  for (const [value, deliveries] of deliveryCounts) {
    if (!enqueues.has(value)) unexpected.add(value);
    if (deliveries > 1) duplicated.add({ value, deliveries });
  }
  return {
    lost: lost.toFinding(),
    unexpected: unexpected.toFinding(),
    failedDelivered: failedDelivered.toFinding(),
    duplicated: duplicated.toFinding(),
    recovered: recovered.toFinding(),
  };
}

/**
 * Redelivery is keyed by message id, not by value: a value enqueued twice under two ids (an
 * indeterminate enqueue retried after its dedup window) may legally be delivered again after one
 * copy is acked. The same id coming back after its ack completed means the ack itself was lost.
 */
function checkAcks(
  operations: readonly Operation[],
  deliveries: readonly Delivery[],
  examplesMax: number,
): Pick<QueueCheckResult, 'ackedTwice' | 'redeliveredAfterAck'> {
  const byReceipt = new Map<string, Delivery>();
  for (const delivery of deliveries) {
    if (!byReceipt.has(delivery.message.receipt)) byReceipt.set(delivery.message.receipt, delivery);
  }
  const ackedAt = new Map<string, { index: number; timeMs: number }>();
  const acksByValue = new Map<string, number>();
  for (const operation of operations) {
    const completion = operation.completion;
    if (completion === undefined || completion.f !== 'ack' || completion.type !== 'ok') continue;
    const refused = new Set(completion.value.rejected ?? []);
    for (const receipt of completion.value.receipts) {
      if (refused.has(receipt)) continue;
      const delivery = byReceipt.get(receipt);
      assert(delivery !== undefined, `ack at event ${operation.completionIndex} names receipt ${receipt}, which no receive delivered`);
      const { id, value } = delivery.message;
      acksByValue.set(value, (acksByValue.get(value) ?? 0) + 1);
      const earlier = ackedAt.get(id);
      if (earlier === undefined || earlier.index > operation.completionIndex) {
        ackedAt.set(id, { index: operation.completionIndex, timeMs: completion.time });
      }
    }
  }
  const ackedTwice = new FindingList<AckedTwiceExample>(examplesMax);
  for (const [value, acks] of acksByValue) if (acks > 1) ackedTwice.add({ value, acks });
  const redeliveredAfterAck = new FindingList<RedeliveryExample>(examplesMax);
  for (const delivery of deliveries) {
    const acked = ackedAt.get(delivery.message.id);
    if (acked === undefined || delivery.receiveInvokeIndex < acked.index) continue;
    const { value, id, receipt } = delivery.message;
    redeliveredAfterAck.add({ value, id, receipt, ackedAtMs: acked.timeMs, receiveInvokedAtMs: delivery.receiveInvokedAtMs });
  }
  return { ackedTwice: ackedTwice.toFinding(), redeliveredAfterAck: redeliveredAfterAck.toFinding() };
}

/** Clients and nodes share one machine's clock; this covers timer and scheduling jitter only. */
const LEASE_TOLERANCE_MS = 100;

/**
 * RELIABILITY R9: attempt n+1 of a message may only be delivered once attempt n's lease ran out (the
 * workload never nacks or extends). The lease began after its receive was sent and the redelivery
 * was seen before its receive completed, so the time between the two bounds the lease from above:
 * shorter than the visibility timeout means a clock cut it short.
 */
function checkLeaseLengths(deliveries: readonly Delivery[], visibilityMs: number | undefined, examplesMax: number): Finding<EarlyLeaseEndExample> {
  const early = new FindingList<EarlyLeaseEndExample>(examplesMax);
  if (visibilityMs === undefined) return early.toFinding();
  const byAttempt = new Map<string, Delivery>();
  for (const delivery of deliveries) byAttempt.set(`${delivery.message.id}#${delivery.message.attempt}`, delivery);
  for (const delivery of deliveries) {
    const { id, value, attempt } = delivery.message;
    const previous = byAttempt.get(`${id}#${attempt - 1}`);
    if (previous === undefined) continue;
    const heldMs = delivery.receiveCompletedAtMs - previous.receiveInvokedAtMs;
    if (heldMs < visibilityMs - LEASE_TOLERANCE_MS) early.add({ value, id, attempt, heldMs: Math.round(heldMs) });
  }
  return early.toFinding();
}

function checkIdBodies(deliveries: readonly Delivery[], examplesMax: number): Finding<IdConflictExample> {
  const valuesById = new Map<string, Set<string>>();
  for (const { message } of deliveries) {
    const values = valuesById.get(message.id) ?? new Set<string>();
    values.add(message.value);
    valuesById.set(message.id, values);
  }
  const conflicts = new FindingList<IdConflictExample>(examplesMax);
  for (const [id, values] of valuesById) if (values.size > 1) conflicts.add({ id, values: [...values] });
  return conflicts.toFinding();
}

interface OrderItem {
  readonly value: string;
  readonly enqueue: EnqueueRecord;
  readonly delivery: Delivery;
}

/** "p3-17" → producer "p3". Values in any other shape take no part in the order check. */
export function producerOf(value: string): string | undefined {
  const match = /^(.+)-(\d+)$/.exec(value);
  return match?.[1];
}

function checkOrder(enqueues: ReadonlyMap<string, EnqueueRecord>, deliveries: readonly Delivery[], examplesMax: number): Finding<OrderInversionExample> {
  const byProducer = new Map<string, OrderItem[]>();
  const seen = new Set<string>();
  for (const delivery of deliveries) {
    const value = delivery.message.value;
    const enqueue = enqueues.get(value);
    const producer = producerOf(value);
    if (seen.has(value) || enqueue === undefined || producer === undefined || enqueue.delayed) continue;
    seen.add(value);
    // First seen on a later attempt: an earlier delivery went to a receive whose answer was lost,
    // so this is a redelivery, which FIFO order does not constrain.
    if (delivery.message.attempt > 1) continue;
    const items = byProducer.get(producer) ?? [];
    items.push({ value, enqueue, delivery });
    byProducer.set(producer, items);
  }
  const inversions = new FindingList<OrderInversionExample>(examplesMax);
  for (const items of byProducer.values()) countInversions(items, inversions);
  return inversions.toFinding();
}

/** `later` was seen strictly before `earlier`: its receive finished before the other's began, or it came first in the same list. */
function seenBefore(later: Delivery, earlier: Delivery): boolean {
  if (later.receiveOrdinal === earlier.receiveOrdinal) return later.listIndex < earlier.listIndex;
  return later.receiveCompletionIndex < earlier.receiveInvokeIndex;
}

/**
 * Counts pairs (X, Y) where X's enqueue was acknowledged before Y's was invoked, so a FIFO queue
 * must place X first, yet Y was seen first. For one sequential producer that is exactly "delivered
 * out of sequence-number order"; overlapping enqueues have no required order and never count.
 * Sweeps Y by invocation and indexes the settled X by where they were seen, to stay O(n log n) on
 * long runs instead of comparing every pair.
 */
function countInversions(items: readonly OrderItem[], inversions: FindingList<OrderInversionExample>): void {
  const byInvoke = [...items].sort((left, right) => left.enqueue.firstInvokeIndex - right.enqueue.firstInvokeIndex);
  const byOk = items.filter((item) => item.enqueue.okIndex !== Infinity);
  byOk.sort((left, right) => left.enqueue.okIndex - right.enqueue.okIndex);
  const receiveStarts = [...new Set(byOk.map((item) => item.delivery.receiveInvokeIndex))].sort((left, right) => left - right);
  const settled = new FenwickTree(receiveStarts.length);
  const settledInList = new Map<number, number[]>();
  const settledItems: OrderItem[] = [];
  let next = 0;
  for (const later of byInvoke) {
    for (let candidate = byOk[next]; candidate !== undefined; candidate = byOk[next]) {
      if (candidate.enqueue.okIndex >= later.enqueue.firstInvokeIndex) break;
      settled.add(upperBound(receiveStarts, candidate.delivery.receiveInvokeIndex) - 1);
      insertSorted(settledInList, candidate.delivery.receiveOrdinal, candidate.delivery.listIndex);
      settledItems.push(candidate);
      next++;
    }
    const inOtherReceives = settled.total() - settled.prefix(upperBound(receiveStarts, later.delivery.receiveCompletionIndex));
    const sameList = settledInList.get(later.delivery.receiveOrdinal) ?? [];
    const inSameReceive = sameList.length - upperBound(sameList, later.delivery.listIndex);
    recordInversions(later, inOtherReceives + inSameReceive, settledItems, inversions);
  }
}

function recordInversions(later: OrderItem, count: number, settledItems: readonly OrderItem[], inversions: FindingList<OrderInversionExample>): void {
  let named = 0;
  // Naming the culprits is a linear scan, so it runs only while the example list has room.
  for (const earlier of settledItems) {
    if (inversions.full || named === count) break;
    if (!seenBefore(later.delivery, earlier.delivery)) continue;
    inversions.add({ enqueuedFirst: earlier.value, deliveredFirst: later.value });
    named++;
  }
  // The scan is the naive count: when it ran to the end it must agree with the indexed one.
  assert(inversions.full || named === count, `order check counted ${count} inversions but found ${named}`);
  inversions.tally(count - named);
}

/** Counts of positions 0..size-1, with prefix sums in O(log size). */
class FenwickTree {
  private readonly sums: number[];
  private added = 0;

  constructor(readonly size: number) {
    this.sums = new Array<number>(size + 1).fill(0);
  }

  add(position: number): void {
    assert(position >= 0 && position < this.size, `position ${position} outside 0..${this.size - 1}`);
    this.added++;
    for (let node = position + 1; node <= this.size; node += node & -node) this.sums[node] = (this.sums[node] ?? 0) + 1;
  }

  /** How many added positions are below `end`. */
  prefix(end: number): number {
    assert(end >= 0 && end <= this.size, `prefix end ${end} outside 0..${this.size}`);
    let sum = 0;
    for (let node = end; node > 0; node -= node & -node) sum += this.sums[node] ?? 0;
    return sum;
  }

  total(): number {
    return this.added;
  }
}

/** The first position in ascending `sorted` whose element is greater than `target`. */
function upperBound(sorted: readonly number[], target: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? Infinity) <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted(lists: Map<number, number[]>, key: number, value: number): void {
  const list = lists.get(key) ?? [];
  list.splice(upperBound(list, value), 0, value);
  lists.set(key, list);
}

/**
 * The longest stretch, between the first and the last enqueue invocation, in which no enqueue
 * completed ok: how long producers saw the queue as unavailable. With no ok at all it is the span.
 */
export function longestUnavailabilityMs(history: History): number {
  const invokeTimes = history.filter((event) => event.f === 'enqueue' && event.type === 'invoke').map((event) => event.time);
  const first = invokeTimes[0];
  const last = invokeTimes[invokeTimes.length - 1];
  if (first === undefined || last === undefined) return 0;
  let longest = 0;
  let since = first;
  for (const event of history) {
    if (event.f !== 'enqueue' || event.type !== 'ok') continue;
    const time = Math.min(Math.max(event.time, first), last);
    longest = Math.max(longest, time - since);
    since = time;
  }
  return Math.max(longest, last - since);
}

export function summarize(result: QueueCheckResult): string {
  const lossBound = result.acknowledged > 0 ? ` (loss rate < ${(3 / result.acknowledged).toPrecision(2)} at 95%)` : '';
  const lines = [
    `${result.valid ? 'valid' : 'INVALID'}: ${result.lost.count} lost of ${result.acknowledged} acknowledged${lossBound}; ` +
      `attempted ${result.attempted}, failed ${result.failed}, indeterminate ${result.indeterminate}; ` +
      `delivered ${result.delivered} in ${result.deliveries} deliveries, duplicated ${result.duplicated.count}, ` +
      `recovered ${result.recovered.count}, acked twice ${result.ackedTwice.count}, ` +
      `order inversions ${result.orderInversions.count}, leases ended early ${result.leasesEndedEarly.count}; ` +
      `queue paused ${result.pauses.windows} times, delivered while paused ${result.pauses.deliveredWhilePaused.count}, never acked ${result.neverAcked.count}; longest unavailability ${Math.round(result.longestUnavailabilityMs)} ms`,
  ];
  for (const reason of result.reasons) lines.push(`  violation: ${reason}`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  const examples: [string, Finding<unknown>][] = [
    ['lost', result.lost],
    ['unexpected', result.unexpected],
    ['failed but delivered', result.failedDelivered],
    ['redelivered after ack', result.redeliveredAfterAck],
    ['one id, two bodies', result.oneIdTwoBodies],
    ['order inversions', result.orderInversions],
    ['leases ended early', result.leasesEndedEarly],
    ['acked twice', result.ackedTwice],
    ['delivered while paused', result.pauses.deliveredWhilePaused],
    ['never acked', result.neverAcked],
  ];
  for (const [label, finding] of examples) {
    if (finding.count === 0) continue;
    lines.push(`  ${label} (${finding.count}): ${finding.examples.slice(0, 5).map(describeExample).join(', ')}`);
  }
  return lines.join('\n');
}

function describeExample(example: unknown): string {
  return typeof example === 'string' ? example : JSON.stringify(example);
}
