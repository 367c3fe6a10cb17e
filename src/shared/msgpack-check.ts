import { assert } from './assert.ts';

/**
 * Checks bytes from a client or a peer before msgpackr decodes them. msgpackr's decoder honours
 * every extension it knows whatever the encoder options: record definitions (and then fixints
 * 0x40-0x7f read as record references), bundled strings that move the read position, BigInt
 * (quadratic), Error, RegExp, typed arrays, Set, structured-clone ids and pointers, dates. A 1.7 MiB
 * frame built from records froze a node for 2.8 s, and its reader recurses, so deep nesting
 * overflows the stack. This scanner accepts only what our own encoder (`encode` in codec.ts) writes:
 * nil, booleans, integers of every width, float32/64, strings, binaries, arrays, maps whose keys are
 * strings or integers, and `undefined` as fixext 1 type 0. It is iterative, linear in the input, never
 * throws on any bytes, and never allocates by a declared length.
 */

export interface MsgpackLimits {
  /** How many containers may nest: a top-level map or array is depth 1, a scalar alone depth 0. */
  readonly depthMax: number;
  /**
   * How many values (every scalar, key and container counts one) the input may hold. msgpackr builds
   * an object per map at about 100 ns a value: this bounds how long decoding one frame can hold the
   * event loop, whatever its byte size (16 MiB of tiny maps take 0.3 s, 16 MiB of one string 10 ms).
   */
  readonly valuesMax?: number;
}

/** What the first byte of a value says about how to step over it. */
const Kind = {
  /** Its whole size follows from the first byte (`SIZE`): ints, floats, nil, booleans, fixstr. */
  sized: 1,
  /** A string or binary whose byte length follows in `SIZE` big-endian bytes. */
  bytes: 2,
  /** An array whose count is in the low nibble (`SIZE` 0) or in `SIZE` big-endian bytes. */
  array: 3,
  /** A map, counted as for arrays; each entry is two values. */
  map: 4,
  /** fixext 1: accepted only as type 0 with a zero data byte, which is `undefined`. */
  fixext1: 5,
  /** Any other extension, and 0xc1: refused. */
  refused: 0,
} as const;

/** Indexed by a value's first byte. */
const KIND = new Uint8Array(256);
/** For `Kind.sized` the value's total size in bytes; for the others the width of the length field. */
const SIZE = new Uint8Array(256);
/** 1 where a map key may start: strings and integers, which msgpackr turns into property names. */
const KEY_FORMAT = new Uint8Array(256);

function defineFormats(): void {
  for (let token = 0x00; token <= 0x7f; token++) define(token, Kind.sized, 1, true); // positive fixint
  for (let token = 0x80; token <= 0x8f; token++) define(token, Kind.map, 0, false);
  for (let token = 0x90; token <= 0x9f; token++) define(token, Kind.array, 0, false);
  for (let token = 0xa0; token <= 0xbf; token++) define(token, Kind.sized, 1 + (token & 0x1f), true); // fixstr
  for (let token = 0xe0; token <= 0xff; token++) define(token, Kind.sized, 1, true); // negative fixint
  define(0xc0, Kind.sized, 1, false); // nil
  define(0xc2, Kind.sized, 1, false); // false
  define(0xc3, Kind.sized, 1, false); // true
  define(0xc4, Kind.bytes, 1, false); // bin 8
  define(0xc5, Kind.bytes, 2, false); // bin 16
  define(0xc6, Kind.bytes, 4, false); // bin 32
  define(0xca, Kind.sized, 5, false); // float 32
  define(0xcb, Kind.sized, 9, false); // float 64
  define(0xcc, Kind.sized, 2, true); // uint 8
  define(0xcd, Kind.sized, 3, true); // uint 16
  define(0xce, Kind.sized, 5, true); // uint 32
  define(0xcf, Kind.sized, 9, true); // uint 64
  define(0xd0, Kind.sized, 2, true); // int 8
  define(0xd1, Kind.sized, 3, true); // int 16
  define(0xd2, Kind.sized, 5, true); // int 32
  define(0xd3, Kind.sized, 9, true); // int 64
  define(0xd4, Kind.fixext1, 3, false);
  define(0xd9, Kind.bytes, 1, true); // str 8
  define(0xda, Kind.bytes, 2, true); // str 16
  define(0xdb, Kind.bytes, 4, true); // str 32
  define(0xdc, Kind.array, 2, false);
  define(0xdd, Kind.array, 4, false);
  define(0xde, Kind.map, 2, false);
  define(0xdf, Kind.map, 4, false);
  // 0xc1 and the other extensions (0xc7-0xc9, 0xd5-0xd8) stay Kind.refused.
}

function define(token: number, kind: number, size: number, mayBeKey: boolean): void {
  KIND[token] = kind;
  SIZE[token] = size;
  KEY_FORMAT[token] = mayBeKey ? 1 : 0;
}

defineFormats();

const TRUNCATED = 'truncated';
const TRAILING = 'trailing bytes';

/**
 * Counts in `remainingAtDepth` never exceed the input's length, which this bounds to fit an Int32Array
 * (integer counts on the hot path: a double's parity costs a floating-point remainder per value).
 */
const INPUT_BYTES_MAX = 0x7fffffff;

/**
 * The open containers, innermost last: how many values each still holds (a map counts keys and
 * values apart, so an even count means a key comes next) and whether it is a map. Shared between
 * calls, which are synchronous. It grows, keeping what it holds, only when an input nests deeper than
 * it has room for; every level costs the input a byte, so its size follows the inputs seen, never a
 * declared length or limit.
 */
let remainingAtDepth = new Int32Array(128);
let mapAtDepth = new Uint8Array(128);

/**
 * Returns undefined when `bytes` hold exactly one msgpack value of the accepted formats, within
 * `limits`, and nothing after it; otherwise a short reason for a human.
 */
export function checkMsgpack(bytes: Uint8Array, limits: MsgpackLimits): string | undefined {
  const depthMax = limits.depthMax;
  assert(Number.isInteger(depthMax), 'depthMax must be an integer');
  assert(depthMax >= 0, 'depthMax must not be negative');
  let remaining = remainingAtDepth;
  let isMap = mapAtDepth;
  const end = bytes.length;
  if (end > INPUT_BYTES_MAX) return 'longer than 2 GiB';
  const valuesMax = limits.valuesMax ?? INPUT_BYTES_MAX;
  let position = 0;
  let depth = 0;
  let valuesSeen = 0;
  for (;;) {
    if (position >= end) return TRUNCATED;
    if (++valuesSeen > valuesMax) return `more than ${valuesMax} values`;
    const token = bytes[position]!;
    if (depth > 0) {
      const left = remaining[depth]!;
      if (KEY_FORMAT[token] === 0 && (left & 1) === 0 && isMap[depth] === 1) return keyRefusal(bytes, position);
      remaining[depth] = left - 1;
    }
    const kind = KIND[token]!;
    const size = SIZE[token]!;
    if (kind === Kind.sized) {
      position += size;
      if (position > end) return TRUNCATED;
    } else if (kind === Kind.bytes) {
      if (position + 1 + size > end) return TRUNCATED;
      const length = lengthAt(bytes, position + 1, size);
      position += 1 + size;
      if (length > end - position) return TRUNCATED;
      position += length;
    } else if (kind === Kind.array || kind === Kind.map) {
      if (depth >= depthMax) return `nesting deeper than ${depthMax}`;
      if (position + 1 + size > end) return TRUNCATED;
      const count = size === 0 ? token & 0x0f : lengthAt(bytes, position + 1, size);
      position += 1 + size;
      const values = kind === Kind.map ? count * 2 : count;
      // Every value takes at least one byte: a count the rest cannot hold is refused before it is kept.
      if (values > end - position) return TRUNCATED;
      if (values > 0) {
        depth++;
        if (depth === remaining.length) {
          growStack(depth * 2);
          remaining = remainingAtDepth;
          isMap = mapAtDepth;
        }
        remaining[depth] = values;
        isMap[depth] = kind === Kind.map ? 1 : 0;
        continue;
      }
    } else if (kind === Kind.fixext1) {
      if (position + size > end) return TRUNCATED;
      if (bytes[position + 1] !== 0) return extensionRefusal(bytes[position + 1]!);
      if (bytes[position + 2] !== 0) return 'undefined (fixext 1, type 0) with a nonzero data byte';
      position += size;
    } else {
      return formatRefusal(bytes, position);
    }
    while (depth > 0 && remaining[depth] === 0) depth--;
    if (depth === 0) return position === end ? undefined : TRAILING;
  }
}

/** A big-endian unsigned length of 1, 2 or 4 bytes; the caller has checked that they are there. */
function lengthAt(bytes: Uint8Array, at: number, width: number): number {
  if (width === 1) return bytes[at]!;
  if (width === 2) return (bytes[at]! << 8) | bytes[at + 1]!;
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function growStack(length: number): void {
  assert(length > remainingAtDepth.length, 'the depth stack only grows');
  const remaining = new Int32Array(length);
  const isMap = new Uint8Array(length);
  remaining.set(remainingAtDepth);
  isMap.set(mapAtDepth);
  remainingAtDepth = remaining;
  mapAtDepth = isMap;
}

/** Why a refused first byte was refused: 0xc1, or an extension other than `undefined`. */
function formatRefusal(bytes: Uint8Array, position: number): string {
  const token = bytes[position]!;
  assert(KIND[token] === Kind.refused, `format 0x${token.toString(16)} is accepted`);
  if (token === 0xc1) return 'byte 0xc1 is never used in msgpack';
  // fixext 2-16 carry their type right after the first byte; ext 8/16/32 after a 1, 2 or 4 byte length.
  const typeOffset = token >= 0xd5 ? 1 : 1 + (1 << (token - 0xc7));
  if (position + typeOffset >= bytes.length) return TRUNCATED;
  const type = bytes[position + typeOffset]!;
  if (type === 0) return 'extension type 0 is accepted only as fixext 1 (undefined)';
  return extensionRefusal(type);
}

/** Extension types are signed bytes: the timestamp (date) type 0xff is -1. */
function extensionRefusal(typeByte: number): string {
  const type = typeByte > 0x7f ? typeByte - 0x100 : typeByte;
  return `extension type ${type} is not accepted`;
}

/** msgpackr makes keys into property names: anything but a string or an integer would be coerced or throw. */
function keyRefusal(bytes: Uint8Array, position: number): string {
  const token = bytes[position]!;
  if (KIND[token] === Kind.refused) return formatRefusal(bytes, position);
  if (KIND[token] === Kind.array) return 'map key of type array';
  if (KIND[token] === Kind.map) return 'map key of type map';
  if (KIND[token] === Kind.fixext1) {
    if (position + 1 >= bytes.length) return TRUNCATED;
    return bytes[position + 1] === 0 ? 'map key of type undefined' : extensionRefusal(bytes[position + 1]!);
  }
  if (token === 0xc0) return 'map key of type nil';
  if (token === 0xc2 || token === 0xc3) return 'map key of type boolean';
  if (token === 0xca || token === 0xcb) return 'map key of type float';
  assert(token >= 0xc4 && token <= 0xc6, `format 0x${token.toString(16)} is a key format`);
  return 'map key of type binary';
}
