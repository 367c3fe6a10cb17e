import { describe, expect, it } from 'vitest';
import { checkEveryValueAcked } from '../../../scripts/chaos/dead-letter-checker.ts';
import { type CompletionType, HistoryRecorder } from '../../../scripts/chaos/history.ts';

const PRODUCER = 0;
const CONSUMER = 1000;

function history(ackType: CompletionType | 'open', rejected: readonly string[] = []) {
  let now = 0;
  const recorder = new HistoryRecorder(() => now++);
  for (const value of ['a', 'b']) {
    recorder.invoke(PRODUCER, { f: 'enqueue', value: { value, dedupId: value } });
    recorder.complete(PRODUCER, 'ok', { f: 'enqueue', value: { value, dedupId: value, id: value } });
  }
  recorder.invoke(CONSUMER, { f: 'receive', value: null });
  const delivered = ['a', 'b'].map((value) => ({ value, id: value, receipt: `${value}:1`, attempt: 1 }));
  recorder.complete(CONSUMER, 'ok', { f: 'receive', value: delivered });
  recorder.invoke(CONSUMER, { f: 'ack', value: { receipts: ['a:1'] } });
  recorder.complete(CONSUMER, 'ok', { f: 'ack', value: { receipts: ['a:1'], rejected: [] } });
  recorder.invoke(CONSUMER, { f: 'ack', value: { receipts: ['b:1'] } });
  if (ackType !== 'open') recorder.complete(CONSUMER, ackType, { f: 'ack', value: { receipts: ['b:1'], ...(ackType === 'ok' ? { rejected } : {}) } });
  return recorder.history;
}

describe('the dead-letter checker', () => {
  it('finds an acknowledged value no ack named', () => {
    expect(checkEveryValueAcked(history('fail'), 5)).toEqual({ count: 1, examples: ['b'] });
    expect(checkEveryValueAcked(history('ok', ['b:1']), 5)).toEqual({ count: 1, examples: ['b'] });
  });

  it('counts an ack that may have taken effect: ok, unknown outcome, or still open', () => {
    expect(checkEveryValueAcked(history('ok'), 5).count).toBe(0);
    expect(checkEveryValueAcked(history('info'), 5).count).toBe(0);
    expect(checkEveryValueAcked(history('open'), 5).count).toBe(0);
  });
});
