import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeLarge } from '../../../src/shared/codec.ts';

// Goal: a large value packed into a buffer of its own decodes to the same value whatever the size
// hint, and later encodings never write into the bytes it returned (a snapshot must not change
// under the storage writing it).
const state = {
  queues: Array.from({ length: 3 }, (_, queue) => ({
    name: `q${queue}`,
    messages: Array.from({ length: 2000 }, (_, n) => ({ id: `m${queue}-${n}`, seq: n, body: { text: 'x'.repeat(n % 300), n } })),
  })),
};

describe('encoding large values', () => {
  it('leaves the header it was asked for in front of the encoding', () => {
    const bytes = encodeLarge(state, 1000, 17);
    expect(decode(bytes.subarray(17))).toEqual(state);
  });

  it.each([
    ['far too small', 10],
    ['close', encode(state).length + 2048],
    ['far too large', 50 * 1024 * 1024],
  ])('decodes back whatever the hint (%s)', (_name, hint) => {
    const bytes = encodeLarge(state, hint);
    expect(decode(bytes)).toEqual(state);
    // The result pins no much larger buffer than it needs.
    expect(bytes.buffer.byteLength).toBeLessThan(bytes.length * 1.4);
  });

  it('writes the keys of a repeated shape once, in bytes that any decoder reads on their own', () => {
    const records = Array.from({ length: 1000 }, (_, n) => ({ id: `m${n}`, seq: n, attempt: 1, enqueuedAt: 1_763_990_000_000 + n, result: undefined, deadLetterQueue: undefined, state: 'acked' }));
    const bytes = encodeLarge({ records }, 1000);
    expect(bytes.length).toBeLessThan(encode({ records }).length * 0.6);
    const fresh = new Unpackr({ mapsAsObjects: true, int64AsType: 'number' });
    const decoded = fresh.unpack(bytes) as { records: typeof records };
    expect(decoded).toEqual({ records });
    expect('result' in decoded.records[7]!).toBe(true);
    encodeLarge({ other: [{ a: 1 }, { a: 2 }] }, 100);
    expect(decode(bytes)).toEqual({ records });
  });

  it('returns bytes that later encodings leave alone', () => {
    const bytes = encodeLarge(state, encode(state).length + 2048);
    const copy = Uint8Array.prototype.slice.call(bytes);
    for (let i = 0; i < 200; i++) encode({ filler: 'y'.repeat(1000), i });
    encodeLarge({ other: 'z'.repeat(100_000) }, 200_000);
    expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
  });
});
