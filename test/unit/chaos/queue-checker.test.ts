import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompletionType, type DeliveredMessage, type History, HistoryRecorder } from '../../../scripts/chaos/history.ts';
import { checkQueueHistory, longestUnavailabilityMs, type QueueCheckOptions, summarize } from '../../../scripts/chaos/queue-checker.ts';

const STRICT: QueueCheckOptions = { drained: true, strictOrder: true };

/** A hand-made timeline: every event moves the clock on by 1 ms unless `at` sets it. */
class Timeline {
  private now = 0;
  readonly recorder = new HistoryRecorder(() => this.now++);

  get history(): History {
    return this.recorder.history;
  }

  at(ms: number): this {
    this.now = ms;
    return this;
  }

  invokeEnqueue(process: number, value: string): this {
    this.recorder.invoke(process, { f: 'enqueue', value: { value, dedupId: `d-${value}` } });
    return this;
  }

  completeEnqueue(process: number, value: string, type: CompletionType = 'ok'): this {
    this.recorder.complete(process, type, { f: 'enqueue', value: { value, dedupId: `d-${value}` } });
    return this;
  }

  enqueue(process: number, value: string, type: CompletionType = 'ok'): this {
    return this.invokeEnqueue(process, value).completeEnqueue(process, value, type);
  }

  invokeReceive(process: number): this {
    this.recorder.invoke(process, { f: 'receive', value: null });
    return this;
  }

  completeReceive(process: number, messages: readonly DeliveredMessage[]): this {
    this.recorder.complete(process, 'ok', { f: 'receive', value: messages });
    return this;
  }

  receive(process: number, ...messages: DeliveredMessage[]): this {
    return this.invokeReceive(process).completeReceive(process, messages);
  }

  ack(process: number, receipts: string[], type: CompletionType = 'ok', rejected: string[] = []): this {
    this.recorder.invoke(process, { f: 'ack', value: { receipts } });
    this.recorder.complete(process, type, { f: 'ack', value: { receipts, rejected } });
    return this;
  }
}

/** A delivery whose id is derived from the value unless a test needs them to differ. */
function message(value: string, attempt = 1, id = `id-${value}`): DeliveredMessage {
  return { value, id, receipt: `${id}:${attempt}`, attempt };
}

/** Enqueues each value ok from process 1, then receives and acks them one at a time in the given order. */
function roundTrip(enqueued: readonly string[], delivered: readonly string[] = enqueued): Timeline {
  const timeline = new Timeline();
  for (const value of enqueued) timeline.enqueue(1, value);
  for (const value of delivered) timeline.receive(2, message(value)).ack(2, [message(value).receipt]);
  return timeline;
}

describe('checkQueueHistory', () => {
  it('finds a clean history from two producers valid, with every count in place', () => {
    const values = ['p1-1', 'p2-1', 'p1-2', 'p2-2', 'p1-3'];
    const result = checkQueueHistory(roundTrip(values).history, STRICT);
    expect(result.reasons).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result).toMatchObject({ attempted: 5, acknowledged: 5, failed: 0, indeterminate: 0, delivered: 5, deliveries: 5 });
    expect(result.lost).toEqual({ count: 0, examples: [] });
    expect(result.orderInversions.count).toBe(0);
    expect(summarize(result)).toMatch(/^valid: 0 lost of 5 acknowledged/);
  });

  it('catches an acknowledged enqueue that was never delivered', () => {
    const result = checkQueueHistory(roundTrip(['p1-1', 'p1-2', 'p1-3'], ['p1-1', 'p1-3']).history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.lost).toEqual({ count: 1, examples: ['p1-2'] });
    expect(result.reasons.join()).toMatch(/never delivered/);
    expect(summarize(result)).toMatch(/^INVALID: 1 lost of 3 acknowledged[^]*lost \(1\): p1-2/);
  });

  it('catches a delivered value that no producer ever attempted', () => {
    const timeline = roundTrip(['p1-1']).receive(2, message('ghost-1'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.unexpected).toEqual({ count: 1, examples: ['ghost-1'] });
  });

  it('catches the delivery of a value whose enqueue definitely failed', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1', 'fail').enqueue(1, 'p1-2', 'fail').receive(2, message('p1-1'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.failed).toBe(2);
    expect(result.failedDelivered).toEqual({ count: 1, examples: ['p1-1'] });
  });

  it('counts a value as acknowledged when a retry after a failure succeeds', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1', 'fail').enqueue(1, 'p1-1', 'ok');
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result).toMatchObject({ attempted: 1, acknowledged: 1, failed: 0 });
    expect(result.lost.examples).toEqual(['p1-1']);
  });

  it('counts a delivered indeterminate enqueue as recovered and stays valid', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1', 'info').receive(2, message('p1-1'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(true);
    expect(result.indeterminate).toBe(1);
    expect(result.recovered).toEqual({ count: 1, examples: ['p1-1'] });
  });

  it('accepts an indeterminate enqueue that is never delivered, including one still open at the end', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1', 'info').invokeEnqueue(3, 'p3-1');
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(true);
    expect(result).toMatchObject({ attempted: 2, acknowledged: 0, indeterminate: 2 });
    expect(result.lost.count).toBe(0);
    expect(result.recovered.count).toBe(0);
  });

  it('counts a value delivered twice as duplicated but stays valid', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(1, 'p1-2');
    timeline.receive(2, message('p1-1')).receive(2, message('p1-1', 2), message('p1-2')).ack(2, ['id-p1-1:2', 'id-p1-2:1']);
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(true);
    expect(result.deliveries).toBe(3);
    expect(result.duplicated).toEqual({ count: 1, examples: [{ value: 'p1-1', deliveries: 2 }] });
  });

  it('reports examples past the cap only as a count', () => {
    const values = Array.from({ length: 30 }, (_, index) => `p1-${index + 1}`);
    const result = checkQueueHistory(roundTrip(values, []).history, STRICT);
    expect(result.lost.count).toBe(30);
    expect(result.lost.examples).toHaveLength(20);
    expect(checkQueueHistory(roundTrip(values, []).history, { ...STRICT, examplesMax: 3 }).lost.examples).toEqual(['p1-1', 'p1-2', 'p1-3']);
  });

  it('is invalid when the queue was not drained, even with nothing else wrong', () => {
    const result = checkQueueHistory(roundTrip(['p1-1']).history, { drained: false, strictOrder: true });
    expect(result.valid).toBe(false);
    expect(result.drained).toBe(false);
    expect(result.reasons).toEqual([expect.stringMatching(/not drained/)]);
  });
});

describe('checkQueueHistory: order within a producer', () => {
  it('catches a later value from one producer delivered before an earlier one', () => {
    const result = checkQueueHistory(roundTrip(['p1-1', 'p1-2', 'p1-3'], ['p1-1', 'p1-3', 'p1-2']).history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.orderInversions).toEqual({ count: 1, examples: [{ enqueuedFirst: 'p1-2', deliveredFirst: 'p1-3' }] });
  });

  it('catches a reversal inside one receive list', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(1, 'p1-2').receive(2, message('p1-2'), message('p1-1'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.orderInversions.examples).toEqual([{ enqueuedFirst: 'p1-1', deliveredFirst: 'p1-2' }]);
  });

  it('does not hold a value first seen on a later attempt to FIFO order: its first delivery went to a lost receive', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(1, 'p1-2');
    timeline.receive(2, message('p1-2')).ack(2, [message('p1-2').receipt]);
    timeline.receive(2, message('p1-1', 2)).ack(2, [message('p1-1', 2).receipt]);
    expect(checkQueueHistory(timeline.history, STRICT).orderInversions.count).toBe(0);
    const firstAttempt = roundTrip(['p1-1', 'p1-2'], ['p1-2', 'p1-1']).history;
    expect(checkQueueHistory(firstAttempt, STRICT).orderInversions.count).toBe(1);
  });

  it('does not hold a delayed value to FIFO order: it joins the line when its delay ends or it is promoted', () => {
    const history = new HistoryRecorder();
    history.invoke(1, { f: 'enqueue', value: { value: 'later-1', dedupId: 'later-1', delayMs: 60_000 } });
    history.complete(1, 'ok', { f: 'enqueue', value: { value: 'later-1', dedupId: 'later-1', delayMs: 60_000, id: 'a' } });
    history.invoke(1, { f: 'enqueue', value: { value: 'later-2', dedupId: 'later-2' } });
    history.complete(1, 'ok', { f: 'enqueue', value: { value: 'later-2', dedupId: 'later-2', id: 'b' } });
    history.invoke(2, { f: 'receive', value: null });
    const delivered = (value: string, id: string) => ({ value, id, receipt: `${id}:1`, attempt: 1 });
    history.complete(2, 'ok', { f: 'receive', value: [delivered('later-2', 'b'), delivered('later-1', 'a')] });
    expect(checkQueueHistory(history.history, STRICT).orderInversions.count).toBe(0);
  });

  it('only warns about inversions when strict order is off', () => {
    const history = roundTrip(['p1-1', 'p1-2'], ['p1-2', 'p1-1']).history;
    const result = checkQueueHistory(history, { drained: true, strictOrder: false });
    expect(result.orderInversions.count).toBe(1);
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([expect.stringMatching(/1 order inversions/)]);
  });

  it('does not count values from different producers, nor enqueues that overlapped in time', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(2, 'p2-1');
    timeline.invokeEnqueue(1, 'p1-2').invokeEnqueue(3, 'p1-3').completeEnqueue(3, 'p1-3').completeEnqueue(1, 'p1-2');
    timeline.receive(4, message('p2-1'), message('p1-1'), message('p1-3'), message('p1-2'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.orderInversions.count).toBe(0);
    expect(result.valid).toBe(true);
  });

  it('does not count deliveries from receives that overlapped in time, but does count a later receive', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(1, 'p1-2').enqueue(1, 'p1-3');
    timeline
      .invokeReceive(2)
      .invokeReceive(3)
      .completeReceive(3, [message('p1-3')])
      .completeReceive(2, [message('p1-1')]);
    timeline.receive(4, message('p1-2'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.orderInversions).toEqual({ count: 1, examples: [{ enqueuedFirst: 'p1-2', deliveredFirst: 'p1-3' }] });
  });

  it('counts the same inversions as a naive pairwise count, for any delivery order and batching', () => {
    const scenario = fc
      .integer({ min: 1, max: 24 })
      .chain((size) =>
        fc.tuple(
          fc.shuffledSubarray([...Array(size).keys()], { minLength: size, maxLength: size }),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: size, maxLength: size }),
        ),
      );
    fc.assert(
      fc.property(scenario, ([order, batchSizes]) => {
        const timeline = new Timeline();
        for (let sequence = 0; sequence < order.length; sequence++) timeline.enqueue(1, `p1-${sequence}`);
        for (let start = 0, batch = 0; start < order.length; batch++) {
          const size = batchSizes[batch] ?? 1;
          timeline.receive(2, ...order.slice(start, start + size).map((sequence) => message(`p1-${sequence}`)));
          start += size;
        }
        let naive = 0;
        order.forEach((earlierSequence, position) => {
          for (const laterSequence of order.slice(position + 1)) if (laterSequence < earlierSequence) naive++;
        });
        expect(checkQueueHistory(timeline.history, STRICT).orderInversions.count).toBe(naive);
      }),
      { seed: 20240611, numRuns: 200 },
    );
  });
});

describe('checkQueueHistory: acks', () => {
  it('counts a value acked ok twice, without invalidating the run', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1');
    timeline.receive(2, message('p1-1')).receive(3, message('p1-1', 2));
    timeline.ack(2, ['id-p1-1:1']).ack(3, ['id-p1-1:2']);
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.ackedTwice).toEqual({ count: 1, examples: [{ value: 'p1-1', acks: 2 }] });
    expect(result.valid).toBe(true);
  });

  it('does not count a receipt the server rejected as acked', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1');
    timeline.receive(2, message('p1-1')).receive(3, message('p1-1', 2));
    timeline.ack(2, ['id-p1-1:1'], 'ok', ['id-p1-1:1']).ack(3, ['id-p1-1:2']);
    expect(checkQueueHistory(timeline.history, STRICT).ackedTwice.count).toBe(0);
  });

  it('catches a redelivery by a receive that began after the ack completed', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1');
    timeline.receive(2, message('p1-1')).at(50).ack(2, ['id-p1-1:1']).at(60).receive(3, message('p1-1', 2));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.redeliveredAfterAck.examples).toEqual([{ value: 'p1-1', id: 'id-p1-1', receipt: 'id-p1-1:2', ackedAtMs: 51, receiveInvokedAtMs: 60 }]);
  });

  it('allows a redelivery by a receive already under way when the ack completed, or after an indeterminate ack', () => {
    const overlapping = new Timeline().enqueue(1, 'p1-1').receive(2, message('p1-1')).invokeReceive(3);
    overlapping.ack(2, ['id-p1-1:1']).completeReceive(3, [message('p1-1', 2)]);
    expect(checkQueueHistory(overlapping.history, STRICT).redeliveredAfterAck.count).toBe(0);
    const unsure = new Timeline().enqueue(1, 'p1-1').receive(2, message('p1-1'));
    unsure.ack(2, ['id-p1-1:1'], 'info').receive(3, message('p1-1', 2));
    expect(checkQueueHistory(unsure.history, STRICT).redeliveredAfterAck.count).toBe(0);
  });

  it('catches a redelivery sooner than the lease, measured from the receive that took it', () => {
    const options = { ...STRICT, visibilityMs: 3000 };
    const early = new Timeline().enqueue(1, 'p1-1').at(1000).receive(2, message('p1-1')).at(2500).receive(3, message('p1-1', 2));
    early.ack(3, ['id-p1-1:2']);
    const result = checkQueueHistory(early.history, options);
    expect(result.valid).toBe(false);
    expect(result.leasesEndedEarly.examples).toEqual([{ value: 'p1-1', id: 'id-p1-1', attempt: 2, heldMs: 1501 }]);
    const onTime = new Timeline().enqueue(1, 'p1-1').at(1000).receive(2, message('p1-1')).at(4000).receive(3, message('p1-1', 2));
    onTime.ack(3, ['id-p1-1:2']);
    expect(checkQueueHistory(onTime.history, options).leasesEndedEarly.count).toBe(0);
    // Without a known lease length nothing is judged.
    expect(checkQueueHistory(early.history, STRICT).leasesEndedEarly.count).toBe(0);
  });

  it('catches one message id delivered with two different values', () => {
    const timeline = new Timeline().enqueue(1, 'p1-1').enqueue(1, 'p1-2');
    timeline.receive(2, message('p1-1', 1, 'm1')).receive(2, message('p1-2', 2, 'm1'));
    const result = checkQueueHistory(timeline.history, STRICT);
    expect(result.valid).toBe(false);
    expect(result.oneIdTwoBodies).toEqual({ count: 1, examples: [{ id: 'm1', values: ['p1-1', 'p1-2'] }] });
  });
});

describe('longestUnavailabilityMs', () => {
  it('finds the longest gap between ok enqueues, bounded by the first and last enqueue invocation', () => {
    const timeline = new Timeline();
    timeline.at(0).invokeEnqueue(1, 'p1-1').at(10).completeEnqueue(1, 'p1-1');
    timeline.at(20).invokeEnqueue(1, 'p1-2').at(25).completeEnqueue(1, 'p1-2');
    timeline.at(30).invokeEnqueue(1, 'p1-3').at(130).completeEnqueue(1, 'p1-3', 'info');
    timeline.at(140).invokeEnqueue(1, 'p1-4').at(150).completeEnqueue(1, 'p1-4');
    timeline.at(200).invokeEnqueue(1, 'p1-5').at(290).completeEnqueue(1, 'p1-5');
    // Gaps: 0→10, 10→25, 25→150 (the info does not count), 150→200 (the last invocation).
    expect(longestUnavailabilityMs(timeline.history)).toBe(125);
    expect(checkQueueHistory(timeline.history, { drained: true, strictOrder: true }).longestUnavailabilityMs).toBe(125);
  });

  it('is the whole span when no enqueue succeeds, and 0 with no enqueues', () => {
    const failing = new Timeline().at(5).enqueue(1, 'p1-1', 'fail').at(40).enqueue(1, 'p1-2', 'info');
    expect(longestUnavailabilityMs(failing.history)).toBe(35);
    expect(longestUnavailabilityMs(new Timeline().receive(1).history)).toBe(0);
  });
});

describe('HistoryRecorder', () => {
  it('refuses a completion without an invocation and a second invocation on a busy process', () => {
    const recorder = new HistoryRecorder(() => 0);
    expect(() => recorder.complete(1, 'ok', { f: 'receive', value: [] })).toThrow(/without invoking/);
    recorder.invoke(1, { f: 'receive', value: null });
    expect(() => recorder.invoke(1, { f: 'receive', value: null })).toThrow(/still open/);
    expect(recorder.openProcesses).toEqual([1]);
  });
});
