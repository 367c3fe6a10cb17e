import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { encode } from '../../src/shared/codec.ts';

/** msgpack bytes as a hostile client or peer sends them: every extension, records, broken framing. */
const recordsPackr = new Packr({ useRecords: true });
const clonePackr = new Packr({ structuredClone: true });
const bundlePackr = new Packr({ bundleStrings: true, useRecords: false });
const moreTypesPackr = new Packr({ moreTypes: true, useRecords: false });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)));
}

/** A msgpack map header for `count` entries. */
function mapHeader(count: number): Uint8Array {
  if (count < 16) return Uint8Array.of(0x80 | count);
  return Uint8Array.of(0xde, count >> 8, count & 0xff);
}

/** A map whose keys and values are given as encoded bytes. */
export function mapBytes(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  return concat([mapHeader(entries.length), ...entries.flatMap(([key, value]) => [key, value])]);
}

/** Values that only raw bytes can carry: extensions, records, huge declared lengths, bad UTF-8, deep nesting. */
export const hostileMsgpackValue: fc.Arbitrary<Uint8Array> = fc.oneof(
  // fixext 1/2/4/8/16 and ext 8 of any type (0 is msgpackr's undefined, -1 the timestamp).
  fc
    .tuple(fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8), fc.integer({ min: -128, max: 127 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
    .map(([code, type, data]) => concat([Uint8Array.of(code, type & 0xff), data.subarray(0, { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 }[code]!)])),
  fc
    .tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 40 }))
    .map(([type, data]) => concat([Uint8Array.of(0xc7, data.length, type & 0xff), data])),
  // Declared lengths far beyond the bytes that follow.
  fc.constantFrom(
    Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xdf, 0x7f, 0xff, 0xff, 0xff),
    Uint8Array.of(0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61),
    Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xf0, 0x00),
    Uint8Array.of(0xdc, 0xff, 0xff),
    Uint8Array.of(0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01),
    Uint8Array.of(0xc1),
    Uint8Array.of(0xa3, 0xff, 0xfe, 0xfd),
    Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xca, 0x7f, 0xc0, 0, 0),
    Uint8Array.of(0xd4, 0x00, 0x00),
    Uint8Array.of(0xd6, 0xff, 0, 0, 0, 1),
  ),
  // Nesting: arrays of one, maps of one, from a little past the limits to far past them.
  fc
    .tuple(fc.constantFrom(63, 64, 65, 79, 80, 81, 1_000, 100_000), fc.boolean())
    .map(([depth, maps]) =>
      concat([new Uint8Array(depth * (maps ? 3 : 1)).map((_, index) => (maps ? [0x81, 0xa1, 0x61][index % 3]! : 0x91)), Uint8Array.of(0xc0)]),
    ),
  // Maps keyed by things that are not strings.
  fc.constantFrom(
    Uint8Array.of(0x81, 0xc0, 0x01),
    Uint8Array.of(0x81, 0x91, 0x01, 0x01),
    Uint8Array.of(0x81, 0x80, 0x01),
    Uint8Array.of(0x81, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01),
    Uint8Array.of(0x81, 0xc4, 0x01, 0x61, 0x01),
    Uint8Array.of(0x82, 0x01, 0x01, 0x01, 0x02),
  ),
  fc.jsonValue({ maxDepth: 2 }).map((value) => recordsPackr.pack([value, value])),
  fc.constantFrom(new Date(0), new Set([1]), new Map([[1, 2]]), /x/g, new Error('e'), BigInt(2) ** BigInt(70), new Float64Array(2)).map((value) => {
    try {
      return moreTypesPackr.pack(value);
    } catch {
      return Uint8Array.of(0xc1);
    }
  }),
  fc.string({ maxLength: 20 }).map((text) => bundlePackr.pack({ a: text, b: text, c: [text, text] })),
);

/** Whole frames as bytes no well-behaved encoder writes: records, structured clone, raw garbage. */
export function hostileFrameBytes(frame: fc.Arbitrary<Record<string, unknown>>, id: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    frame.map((value) => recordsPackr.pack(value)),
    frame.map((value) => {
      const cyclic: Record<string, unknown> = { ...value };
      cyclic.self = cyclic;
      return clonePackr.pack(cyclic);
    }),
    frame.map((value) => bundlePackr.pack(value)),
    // A map with a hostile value under a key, after a valid id and op.
    fc
      .tuple(
        id,
        fc.constantFrom('body', 'queue', 'op', 'ids', 'config', 'message', 'request', 'messages', 'id', '__proto__', 'constructor'),
        hostileMsgpackValue,
        frame,
      )
      .map(([frameId, key, bytes, value]) =>
        mapBytes([
          [encode('id'), encode(frameId)],
          [encode('op'), encode(value.op ?? 'enqueue')],
          [encode('t'), encode(value.t ?? 'raft')],
          [encode('queue'), encode(value.queue ?? 'fz-a')],
          [encode(key), bytes],
        ]),
      ),
    // A valid frame with bytes after it, or cut short.
    fc.tuple(frame, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([value, tail]) => concat([encode(value), tail])),
    fc.tuple(frame, fc.nat()).map(([value, cut]) => {
      const bytes = encode(value);
      return bytes.subarray(0, cut % Math.max(1, bytes.length));
    }),
    hostileMsgpackValue,
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.integer({ min: 0x80, max: 0x8f }), fc.uint8Array({ maxLength: 60 })).map(([header, rest]) => concat([Uint8Array.of(header), rest])),
    fc.constant(new Uint8Array(0)),
  );
}
