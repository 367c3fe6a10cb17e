import { encodeRecords } from '../shared/codec.ts';
import { assert } from '../shared/index.ts';

/** Elements of a long array packed per step: a slice of large messages takes a few milliseconds. */
const SLICE_ITEMS = 256;
/** Objects and short arrays are walked this deep (machine, queues, queue); anything deeper is packed whole. */
const WALK_DEPTH = 3;

/** Bytes of packed parts copied into the result per step. */
const JOIN_BYTES_PER_STEP = 8 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

const ARRAY_32 = 0xdd;
const MAP_32 = 0xdf;

interface LongArray {
  readonly items: readonly unknown[];
  /** The packed slices so far, in order: the array's content between its header and what follows. */
  readonly slices: Uint8Array[];
  next: number;
}

export interface SlicedEncodingOptions {
  /** Maps each element of a long array as its slice is packed (a snapshot's view of a changed message). */
  readonly asCaptured?: (item: unknown) => unknown;
  /** Runs once every long array is packed, or on `release`. */
  readonly onPacked?: () => void;
  /** Elements packed per step; arrays longer than this are packed in slices. */
  readonly sliceItems?: number;
}

/**
 * A value's msgpack encoding, produced in parts. Everything but long arrays is packed when the
 * encoding is created; a long array (a queue's messages, its remembered records, its dedup ids) is
 * packed a slice per `step`, and the parts are joined a stretch per step, so that encoding a
 * snapshot of a large backlog never holds the event loop for long: whole, 150 MB of messages took
 * 0.2-0.45 s, long enough for the followers of a leader doing it to elect another. The elements of
 * long arrays must not change meanwhile, or the caller maps them to what they were (`asCaptured`)
 * until `onPacked`. The parts decode, with the ordinary decoder, to the value (each slice's records
 * are defined inline, in the slice).
 */
export class SlicedEncoding {
  private readonly parts: (Uint8Array | Uint8Array[])[] = [];
  private readonly longArrays: LongArray[] = [];
  private current = 0;
  /** The parts in order, once all are packed, and how far they have been copied into `joined`. */
  private flat: Uint8Array[] = [];
  private joined: Uint8Array | undefined;
  private joinedParts = 0;
  private offset = 0;
  private readonly asCaptured: ((item: unknown) => unknown) | undefined;
  private readonly sliceItems: number;
  private onPacked: (() => void) | undefined;

  constructor(value: unknown, options: SlicedEncodingOptions = {}) {
    this.asCaptured = options.asCaptured;
    this.onPacked = options.onPacked;
    this.sliceItems = options.sliceItems ?? SLICE_ITEMS;
    this.add(value, 0);
    if (this.longArrays.length === 0) this.release();
  }

  /** Nothing more will be read from the value's long arrays: packed, or the encoding dropped. */
  release(): void {
    const onPacked = this.onPacked;
    this.onPacked = undefined;
    onPacked?.();
  }

  /** Packs the next slice, or joins the next stretch of packed parts; true once the bytes are ready. */
  step(): boolean {
    const array = this.longArrays[this.current];
    if (array === undefined) return this.joinStep();
    const slice = array.items.slice(array.next, array.next + this.sliceItems);
    const asCaptured = this.asCaptured;
    array.slices.push(withoutArrayHeader(encodeRecords(asCaptured === undefined ? slice : slice.map(asCaptured))));
    array.next += slice.length;
    if (array.next >= array.items.length) this.current++;
    if (this.current === this.longArrays.length) this.release();
    return false;
  }

  /** Packs the next slice of a long array; true once all are packed and `takeParts` may be called. */
  packStep(): boolean {
    if (this.current < this.longArrays.length) this.step();
    return this.current >= this.longArrays.length;
  }

  /**
   * The packed encoding as its parts, in order, instead of joined: for a caller that writes it out
   * part by part (a backup streamed to a client), which then never holds a second, joined copy.
   * Handed over once, in place of `bytes`.
   */
  takeParts(): Uint8Array[] {
    assert(this.current >= this.longArrays.length && this.joined === undefined, 'parts are taken once, packed and not joined');
    const parts = this.parts.flat();
    this.parts.length = 0;
    this.longArrays.length = 0;
    return parts;
  }

  /** The whole encoding, once `step` has returned true. */
  bytes(): Uint8Array {
    assert(this.joined !== undefined && this.joinedParts === this.flat.length, 'every slice is packed and joined before the bytes are read');
    return this.joined;
  }

  /**
   * Copies packed parts into the result, about JOIN_BYTES_PER_STEP per step: joining a 120 MB
   * snapshot at once held the event loop for 0.13-0.23 s. Parts are let go as they are copied.
   */
  private joinStep(): boolean {
    if (this.joined === undefined) {
      this.flat = this.parts.flat();
      this.parts.length = 0;
      this.longArrays.length = 0;
      // Not zero-filled (every byte is written), and a plain view: msgpackr decodes binary values
      // out of a Buffer as Buffers, out of a Uint8Array as Uint8Arrays.
      const memory = Buffer.allocUnsafeSlow(this.flat.reduce((sum, part) => sum + part.length, 0));
      this.joined = new Uint8Array(memory.buffer, memory.byteOffset, memory.length);
    }
    let copied = 0;
    while (this.joinedParts < this.flat.length && copied < JOIN_BYTES_PER_STEP) {
      const part = this.flat[this.joinedParts]!;
      this.joined.set(part, this.offset);
      this.offset += part.length;
      copied += part.length;
      this.flat[this.joinedParts++] = EMPTY;
    }
    return this.joinedParts === this.flat.length;
  }

  private add(value: unknown, depth: number): void {
    if (Array.isArray(value) && value.length > this.sliceItems) {
      const slices: Uint8Array[] = [];
      this.parts.push(header(ARRAY_32, value.length), slices);
      this.longArrays.push({ items: value, slices, next: 0 });
    } else if (Array.isArray(value) && depth < WALK_DEPTH) {
      this.parts.push(header(ARRAY_32, value.length));
      for (const item of value) this.add(item, depth + 1);
    } else if (isPlainObject(value) && depth < WALK_DEPTH) {
      const keys = Object.keys(value);
      this.parts.push(header(MAP_32, keys.length));
      for (const key of keys) {
        this.parts.push(encodeRecords(key));
        this.add(value[key], depth + 1);
      }
    } else {
      this.parts.push(encodeRecords(value));
    }
  }
}

function header(type: number, count: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, count);
  return bytes;
}

/** A packed array's elements: its header (fixarray, array 16 or array 32) dropped. */
function withoutArrayHeader(packed: Uint8Array): Uint8Array {
  const first = packed[0]!;
  if (first >= 0x90 && first <= 0x9f) return packed.subarray(1);
  if (first === 0xdc) return packed.subarray(3);
  assert(first === ARRAY_32, 'a packed slice starts with an array header');
  return packed.subarray(5);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
