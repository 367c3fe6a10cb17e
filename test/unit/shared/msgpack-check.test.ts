import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, decodeChecked, encode, encodeRecords } from '../../../src/shared/codec.ts';
import { MalformedInput } from '../../../src/shared/malformed-input.ts';
import { checkMsgpack } from '../../../src/shared/msgpack-check.ts';

// Goal: bytes from clients and peers reach msgpackr only when they hold one value of the formats our
// own encoder writes, nested within the limit, with string or integer map keys; the scanner refuses
// everything else with a reason, never throws, and agrees with a naive recursive reading of the spec.

const LIMITS = { depthMax: 64 } as const;

function check(bytes: readonly number[], limits: { depthMax: number } = LIMITS): string | undefined {
  return checkMsgpack(Uint8Array.from(bytes), limits);
}

/** `count` arrays, each holding the next, around a nil. */
function nestedArrays(count: number): number[] {
  return [...Array.from({ length: count }, () => 0x91), 0xc0];
}

describe('checkMsgpack: what it refuses', () => {
  it('refuses a record definition, the first byte of every records encoding', () => {
    expect(check([0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01])).toBe('extension type 114 is not accepted');
    expect(check([0xd5, 0x72, 0x60, 0x00, 0x91, 0xa1, 0x61, 0x01])).toBe('extension type 114 is not accepted');
    const records = Array.from({ length: 2000 }, (_, n) => ({ id: `m${n}`, seq: n, state: 'acked' }));
    expect(checkMsgpack(encodeRecords({ records }), LIMITS)).toBe('extension type 114 is not accepted');
  });

  it('refuses bundled strings, which move the read position', () => {
    expect(check([0xd6, 0x62, 0x00, 0x00, 0x00, 0x08, 0xc0])).toBe('extension type 98 is not accepted');
    expect(check([0xc8, 0x00, 0x05, 0x62, 0x00, 0x00, 0x00, 0x00, 0xa0, 0xa0])).toBe('extension type 98 is not accepted');
  });

  it('refuses every extension family with a nonzero type, dates (type -1) included', () => {
    const families: ReadonlyArray<readonly [string, (type: number) => number[]]> = [
      ['fixext 1', (type) => [0xd4, type, 0x00]],
      ['fixext 2', (type) => [0xd5, type, 0x00, 0x00]],
      ['fixext 4', (type) => [0xd6, type, 0x00, 0x00, 0x00, 0x00]],
      ['fixext 8', (type) => [0xd7, type, ...new Array<number>(8).fill(0)]],
      ['fixext 16', (type) => [0xd8, type, ...new Array<number>(16).fill(0)]],
      ['ext 8', (type) => [0xc7, 0x01, type, 0x00]],
      ['ext 16', (type) => [0xc8, 0x00, 0x01, type, 0x00]],
      ['ext 32', (type) => [0xc9, 0x00, 0x00, 0x00, 0x01, type, 0x00]],
    ];
    // BigInt, bundle, Error, structured-clone id, structured-clone pointer, record, Set, typed array, RegExp, timestamp.
    const types = [0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78, 0xff, 0x01, 0x7f, 0x80];
    for (const [family, bytesOf] of families) {
      for (const type of types) {
        const signed = type > 0x7f ? type - 0x100 : type;
        expect(check(bytesOf(type)), `${family} type ${type}`).toBe(`extension type ${signed} is not accepted`);
        expect(check([0x91, ...bytesOf(type)]), `${family} type ${type} in an array`).toBe(`extension type ${signed} is not accepted`);
      }
    }
  });

  it('refuses extension type 0 in any form but fixext 1 with a zero data byte', () => {
    expect(check([0xd5, 0x00, 0x00, 0x00])).toBe('extension type 0 is accepted only as fixext 1 (undefined)');
    expect(check([0xc7, 0x00, 0x00])).toBe('extension type 0 is accepted only as fixext 1 (undefined)');
    expect(check([0xd4, 0x00, 0x01])).toBe('undefined (fixext 1, type 0) with a nonzero data byte');
  });

  it('refuses 0xc1, which msgpack never uses and msgpackr reads as a bundled string', () => {
    expect(check([0xc1])).toBe('byte 0xc1 is never used in msgpack');
    expect(check([0x92, 0x01, 0xc1])).toBe('byte 0xc1 is never used in msgpack');
  });

  it('refuses headers declaring more than the input holds, without allocating for the declared length', () => {
    const huge = [0xff, 0xff, 0xff, 0xff];
    expect(check([0xdb, ...huge, 0x61, 0x62, 0x63, 0x64, 0x65])).toBe('truncated'); // str 32
    expect(check([0xc6, ...huge, 0x01, 0x02, 0x03, 0x04, 0x05])).toBe('truncated'); // bin 32
    expect(check([0xdd, ...huge, 0x01, 0x02, 0x03, 0x04, 0x05])).toBe('truncated'); // array 32
    expect(check([0xdf, ...huge, 0x01, 0x02, 0x03, 0x04, 0x05])).toBe('truncated'); // map 32
    expect(check([0x91, 0x91, 0xdd, ...huge, 0x01])).toBe('truncated');
  });

  it('refuses a map whose entries cannot each have two bytes, as msgpackr would', () => {
    expect(check([0x82, 0x01, 0x02, 0x03])).toBe('truncated');
    expect(check([0xde, 0x00, 0x02, 0x01, 0x02, 0x03])).toBe('truncated');
    expect(check([0xde, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04])).toBeUndefined();
  });

  it('refuses every other cut-short value, and empty input', () => {
    expect(check([])).toBe('truncated');
    expect(check([0xcb, 0x00, 0x00])).toBe('truncated');
    expect(check([0xa3, 0x61, 0x62])).toBe('truncated');
    expect(check([0xda, 0x00])).toBe('truncated');
    expect(check([0xd4, 0x00])).toBe('truncated');
    expect(check([0xd6, 0x62, 0x00])).toBe('extension type 98 is not accepted');
    expect(check([0xc9, 0x00, 0x00, 0x00])).toBe('truncated');
    expect(check([0x93, 0x01, 0x02])).toBe('truncated');
  });

  it('refuses bytes after the one value', () => {
    expect(check([0x01, 0x02])).toBe('trailing bytes');
    expect(check([0x90, 0x90])).toBe('trailing bytes');
    expect(check([0x81, 0xa1, 0x61, 0x01, 0x00])).toBe('trailing bytes');
  });

  it('accepts nesting exactly at the limit and refuses one level deeper (a top-level container is depth 1)', () => {
    expect(check(nestedArrays(64))).toBeUndefined();
    expect(check(nestedArrays(65))).toBe('nesting deeper than 64');
    expect(check([0x80], { depthMax: 1 })).toBeUndefined();
    expect(check([0x80], { depthMax: 0 })).toBe('nesting deeper than 0');
    expect(check([0xc0], { depthMax: 0 })).toBeUndefined();
    expect(check([0x81, 0xa1, 0x61, 0x90], { depthMax: 1 })).toBe('nesting deeper than 1');
  });

  it('walks nesting far deeper than the call stack allows without recursing', () => {
    const depth = 300_000;
    expect(check(nestedArrays(depth), { depthMax: depth })).toBeUndefined();
    expect(check(nestedArrays(depth), { depthMax: depth - 1 })).toBe(`nesting deeper than ${depth - 1}`);
  });

  it('refuses map keys that are neither strings nor integers', () => {
    expect(check([0x81, 0x90, 0x01])).toBe('map key of type array');
    expect(check([0x81, 0x80, 0x01])).toBe('map key of type map');
    expect(check([0x81, 0xc0, 0x01])).toBe('map key of type nil');
    expect(check([0x81, 0xc3, 0x01])).toBe('map key of type boolean');
    expect(check([0x81, 0xca, 0x00, 0x00, 0x00, 0x00, 0x01])).toBe('map key of type float');
    expect(check([0x81, 0xc4, 0x00, 0x01])).toBe('map key of type binary');
    expect(check([0x81, 0xd4, 0x00, 0x00, 0x01])).toBe('map key of type undefined');
    expect(check([0x81, 0xd4, 0x72, 0x40, 0x01])).toBe('extension type 114 is not accepted');
    // A later key, after values that are themselves maps and arrays.
    expect(check([0x82, 0xa1, 0x61, 0x81, 0x01, 0x90, 0x91, 0x01, 0x02])).toBe('map key of type array');
  });
});

describe('checkMsgpack: what it accepts', () => {
  it('accepts undefined as fixext 1 type 0, alone, in arrays and as map values', () => {
    expect(check([0xd4, 0x00, 0x00])).toBeUndefined();
    const bytes = encode({ a: undefined, b: [undefined, 1] });
    expect(checkMsgpack(bytes, LIMITS)).toBeUndefined();
    expect(decodeChecked(bytes, LIMITS)).toEqual({ a: undefined, b: [undefined, 1] });
  });

  it('accepts string and integer keys of every width', () => {
    const keys = [
      [0xa1, 0x61],
      [0xd9, 0x01, 0x62],
      [0x07],
      [0xff],
      [0xcc, 0xff],
      [0xd1, 0x80, 0x00],
      [0xcf, 0, 0, 0, 1, 0, 0, 0, 0],
      [0xd3, 0xff, 0, 0, 0, 0, 0, 0, 0],
    ];
    for (const key of keys) expect(check([0x81, ...key, 0x01]), `key ${key.join(',')}`).toBeUndefined();
    expect(decodeChecked(Uint8Array.from([0x82, 0xa1, 0x61, 0x01, 0x07, 0x02]), LIMITS)).toEqual({ a: 1, 7: 2 });
  });

  it('accepts float 32, which other encoders write', () => {
    expect(decodeChecked(Uint8Array.from([0xca, 0x3f, 0xc0, 0x00, 0x00]), LIMITS)).toBe(1.5);
  });

  it('accepts the 32-bit string, binary, array and map headers our encoder writes for large values', () => {
    const large = { text: 'x'.repeat(70_000), bytes: new Uint8Array(70_000), list: new Array<number>(70_000).fill(1) };
    const bytes = encode(large);
    expect(checkMsgpack(bytes, LIMITS)).toBeUndefined();
    expect(decodeChecked(bytes, LIMITS)).toEqual(decode(bytes));
    const map = encode(new Map(Array.from({ length: 70_000 }, (_, n) => [n, n])));
    expect(map[0]).toBe(0xdf);
    expect(checkMsgpack(map, LIMITS)).toBeUndefined();
  });

  it('reads fixints 0x40-0x7f as integers, even after decoding records from disk', () => {
    decode(encodeRecords([{ a: 1 }, { a: 2 }, { b: 3 }]));
    expect(decodeChecked(Uint8Array.from([0x93, 0x40, 0x41, 0x7f]), LIMITS)).toEqual([0x40, 0x41, 0x7f]);
  });
});

describe('decodeChecked', () => {
  it('throws MalformedInput with the reason, before msgpackr reads a byte', () => {
    let thrown: unknown;
    try {
      decodeChecked(Uint8Array.from([0x91, 0xd4, 0x72, 0x40]), LIMITS);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedInput);
    expect((thrown as MalformedInput).name).toBe('MalformedInput');
    expect((thrown as MalformedInput).message).toBe('extension type 114 is not accepted');
  });
});

/** Thrown inside the reference reader: the bytes are not accepted. */
class Refusal extends Error {}

/**
 * The naive reading of what is accepted, written from the list of formats and nothing else: recursive,
 * one case per format. Returns the value's nesting depth, or undefined when the bytes are refused.
 */
function referenceDepth(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end: number): void => {
    if (end > bytes.length) throw new Refusal();
  };
  const leaf = (end: number): { end: number; depth: number } => {
    need(end);
    return { end, depth: 0 };
  };
  const container = (at: number, count: number, isMap: boolean): { end: number; depth: number } => {
    let end = at;
    let depth = 0;
    for (let index = 0; index < count; index++) {
      const inner = read(end, isMap && index % 2 === 0);
      end = inner.end;
      depth = Math.max(depth, inner.depth);
    }
    return { end, depth: depth + 1 };
  };
  const read = (at: number, asKey: boolean): { end: number; depth: number } => {
    need(at + 1);
    const token = bytes[at]!;
    const isInteger = token <= 0x7f || token >= 0xe0 || (token >= 0xcc && token <= 0xd3);
    const isString = (token >= 0xa0 && token <= 0xbf) || (token >= 0xd9 && token <= 0xdb);
    if (asKey && !isInteger && !isString) throw new Refusal();
    if (token <= 0x7f || token >= 0xe0) return leaf(at + 1);
    if (token >= 0x80 && token <= 0x8f) return container(at + 1, (token - 0x80) * 2, true);
    if (token >= 0x90 && token <= 0x9f) return container(at + 1, token - 0x90, false);
    if (token >= 0xa0 && token <= 0xbf) return leaf(at + 1 + token - 0xa0);
    switch (token) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return leaf(at + 1);
      case 0xcc:
      case 0xd0:
        return leaf(at + 2);
      case 0xcd:
      case 0xd1:
        return leaf(at + 3);
      case 0xca:
      case 0xce:
      case 0xd2:
        return leaf(at + 5);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return leaf(at + 9);
      case 0xc4:
      case 0xd9:
        need(at + 2);
        return leaf(at + 2 + view.getUint8(at + 1));
      case 0xc5:
      case 0xda:
        need(at + 3);
        return leaf(at + 3 + view.getUint16(at + 1));
      case 0xc6:
      case 0xdb:
        need(at + 5);
        return leaf(at + 5 + view.getUint32(at + 1));
      case 0xdc:
        need(at + 3);
        return container(at + 3, view.getUint16(at + 1), false);
      case 0xdd:
        need(at + 5);
        return container(at + 5, view.getUint32(at + 1), false);
      case 0xde:
        need(at + 3);
        return container(at + 3, view.getUint16(at + 1) * 2, true);
      case 0xdf:
        need(at + 5);
        return container(at + 5, view.getUint32(at + 1) * 2, true);
      case 0xd4:
        need(at + 3);
        if (bytes[at + 1] !== 0 || bytes[at + 2] !== 0) throw new Refusal();
        return leaf(at + 3);
      default:
        throw new Refusal();
    }
  };
  try {
    const { end, depth } = read(0, false);
    return end === bytes.length ? depth : undefined;
  } catch (error) {
    if (error instanceof Refusal) return undefined;
    throw error;
  }
}

/** The nesting of a value as our encoder writes it: arrays and plain objects are containers. */
function valueDepth(value: unknown): number {
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, valueDepth(child)), 0);
}

const leaves = fc.oneof(fc.jsonValue({ maxDepth: 0 }), fc.uint8Array({ maxLength: 40 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }));
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaves, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 5 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(tie('tree'), fc.constant(undefined)), { maxKeys: 5 }),
}));
/** JSON-like values, and ones with binaries, undefined map values and 64-bit integers. */
const values = fc.oneof(fc.jsonValue(), tree);

type Mutation = { kind: 'flip'; at: number; mask: number } | { kind: 'insert'; at: number; byte: number } | { kind: 'delete'; at: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  const bytes = Array.from(original);
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length;
    if (change.kind === 'flip' && bytes.length > 0) bytes[at] = bytes[at]! ^ change.mask;
    if (change.kind === 'insert') bytes.splice(at, 0, change.byte);
    if (change.kind === 'delete') bytes.splice(at, 1);
  }
  return Uint8Array.from(bytes);
}

/** The scanner agrees with the reference on any bytes, and what it accepts msgpackr decodes. */
function agreesWithReference(bytes: Uint8Array, depthMax: number): void {
  let reason: string | undefined;
  expect(() => (reason = checkMsgpack(bytes, { depthMax }))).not.toThrow();
  const depth = referenceDepth(bytes);
  const accepted = depth !== undefined && depth <= depthMax;
  expect(reason === undefined, `reason ${reason}, reference depth ${depth}`).toBe(accepted);
  if (depth !== undefined && depth > depthMax) expect(reason).toBe(`nesting deeper than ${depthMax}`);
  if (accepted) expect(() => decode(bytes)).not.toThrow();
}

describe('checkMsgpack: properties', () => {
  it('accepts whatever our encoder writes within the depth, and decodeChecked gives what decode gives', () => {
    fc.assert(
      fc.property(values, (value) => {
        const bytes = encode(value);
        const depth = valueDepth(value);
        expect(referenceDepth(bytes)).toBe(depth);
        expect(checkMsgpack(bytes, { depthMax: depth })).toBeUndefined();
        if (depth > 0) expect(checkMsgpack(bytes, { depthMax: depth - 1 })).toBe(`nesting deeper than ${depth - 1}`);
        expect(decodeChecked(bytes, LIMITS)).toEqual(decode(bytes));
      }),
      { seed: 64, numRuns: 400 },
    );
  });

  it('never throws on random bytes, and agrees with the reference reading', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 4 }), (bytes, depthMax) => {
        agreesWithReference(bytes, depthMax);
      }),
      { seed: 65, numRuns: 1000 },
    );
  });

  it('never throws on damaged encodings (bytes flipped, inserted, deleted), and agrees with the reference reading', () => {
    fc.assert(
      fc.property(values, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 6 }), (value, mutations, depthMax) => {
        agreesWithReference(mutate(encode(value), mutations), depthMax);
      }),
      { seed: 66, numRuns: 1500 },
    );
  });
});
