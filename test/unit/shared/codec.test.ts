import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeRecords } from '../../../src/shared/codec.ts';

// Goal: the parts of a large value (snapshots) are packed with records, written once per shape, in
// bytes that stand alone: any decoder reads them, whatever was encoded before or after.
const records = Array.from({ length: 1000 }, (_, n) => ({
  id: `m${n}`,
  seq: n,
  attempt: 1,
  enqueuedAt: 1_763_990_000_000 + n,
  result: undefined,
  deadLetterQueue: undefined,
  state: 'acked',
}));

describe('encoding the parts of large values', () => {
  it('writes the keys of a repeated shape once, in bytes that any decoder reads on their own', () => {
    const bytes = encodeRecords({ records });
    expect(bytes.length).toBeLessThan(encode({ records }).length * 0.6);
    const fresh = new Unpackr({ mapsAsObjects: true, int64AsType: 'number' });
    const decoded = fresh.unpack(bytes) as { records: typeof records };
    expect(decoded).toEqual({ records });
    expect('result' in decoded.records[7]!).toBe(true);
    encodeRecords({ other: [{ a: 1 }, { a: 2 }] });
    expect(decode(bytes)).toEqual({ records });
  });

  it('returns bytes that later encodings leave alone, even after one too large for the scratch buffer', () => {
    const bytes = encodeRecords({ records });
    const copy = Uint8Array.prototype.slice.call(bytes);
    for (let i = 0; i < 200; i++) encodeRecords({ filler: 'y'.repeat(1000), i });
    encodeRecords({ other: 'z'.repeat(2_000_000) });
    encodeRecords({ records: records.slice(0, 10) });
    expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
  });
});
