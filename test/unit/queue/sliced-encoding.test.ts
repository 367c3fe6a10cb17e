import { describe, expect, it } from 'vitest';
import { SlicedEncoding } from '../../../src/queue/sliced-encoding.ts';
import { decode } from '../../../src/shared/codec.ts';

// Goal: a value encoded in slices decodes, with the ordinary decoder, to the value itself, whatever
// its shapes; the long arrays are what is left for the steps, and the rest is taken at once.
const messages = Array.from({ length: 1000 }, (_, n) =>
  n % 7 === 0
    ? { id: `m${n}`, seq: n, body: { text: 'x'.repeat(n % 300), n }, state: 'inflight', deadLetter: { queue: 'q', reason: 'expired' } }
    : { id: `m${n}`, seq: n, body: n % 3 === 0 ? [n, 'a', null] : `b${n}`, state: 'ready', attempt: 0, result: undefined },
);
const state = {
  version: 2,
  now: 1_763_990_000_000,
  queues: [
    { name: 'big', config: { maxLength: 10 }, messages, dedup: messages.map((m) => [`d${m.seq}`, { id: m.id, seq: m.seq }]), retained: [] },
    { name: 'small', config: {}, messages: messages.slice(0, 3), bytes: Uint8Array.of(1, 2, 3) },
  ],
  producers: [['p1', 3, 7, [[4, { type: 'enqueued', ids: ['a'] }]]]],
};

function encodeAll(value: unknown): { bytes: Uint8Array; steps: number } {
  const encoding = new SlicedEncoding(value);
  let steps = 1;
  while (!encoding.step()) steps++;
  return { bytes: encoding.bytes(), steps };
}

describe('SlicedEncoding', () => {
  it('hands over its parts unjoined, which in order are the joined bytes (a backup streams them)', () => {
    const encoding = new SlicedEncoding(state);
    let steps = 0;
    while (!encoding.packStep()) steps++;
    expect(steps).toBeGreaterThan(1);
    const parts = encoding.takeParts();
    expect(Buffer.concat(parts)).toEqual(Buffer.from(encodeAll(state).bytes));
  });

  it('decodes to the value, in several steps for long arrays and one for a value without any', () => {
    const { bytes, steps } = encodeAll(state);
    expect(decode(bytes)).toEqual(state);
    const decoded = decode(bytes) as typeof state;
    expect('result' in (decoded.queues[0]!.messages[1] as object)).toBe(true);
    expect(steps).toBeGreaterThanOrEqual(8);
    expect(encodeAll({ a: 1, list: [1, 2, 3] }).steps).toBe(1);
    expect(decode(encodeAll([]).bytes)).toEqual([]);
  });

  it('takes everything but the long arrays when it is created', () => {
    const header = { now: 5, list: Array.from({ length: 600 }, (_, n) => ({ n })), config: { limit: 1 } };
    const encoding = new SlicedEncoding(header);
    header.now = 6;
    header.config = { limit: 2 };
    while (!encoding.step());
    expect(decode(encoding.bytes())).toEqual({ now: 5, list: header.list, config: { limit: 1 } });
  });

  it('refuses to give bytes before every slice is packed', () => {
    const encoding = new SlicedEncoding({ list: Array.from({ length: 600 }, (_, n) => n) });
    expect(() => encoding.bytes()).toThrow(/every slice/);
  });
});
