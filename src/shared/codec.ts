import { Packr, RESET_BUFFER_MODE } from 'msgpackr';

/**
 * The one msgpack configuration used on disk and on the wire. Options are spelled out: records and
 * structure sharing would make a frame depend on state held by the other side, which a reconnecting
 * peer or a restarted node does not have.
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/** Above this, the scratch buffer is swapped for a small one so one huge value does not pin it. */
const SCRATCH_BYTES_MAX = 1 << 20;
const SCRATCH_BYTES = 64 * 1024;

/**
 * `pack` returns a view into msgpackr's shared, growing scratch buffer; a log entry keeping such a
 * view pins the whole buffer for as long as the entry lives. The result is copied into a buffer of
 * its own size, and the scratch space is reused.
 */
export function encode(value: unknown): Uint8Array {
  const view = packr.pack(value, RESET_BUFFER_MODE);
  const owned = Uint8Array.prototype.slice.call(view);
  if (view.length > SCRATCH_BYTES_MAX) packr.useBuffer(Buffer.allocUnsafeSlow(SCRATCH_BYTES));
  return owned;
}

/** Below this share of its buffer, a large encoding is copied out rather than pin the rest. */
const LARGE_FILL_MIN = 0.75;

/**
 * For values of tens of megabytes (snapshots): packs into one buffer of about `sizeHint` bytes
 * instead of the scratch buffer, which msgpackr grows two- to fourfold at a time and which would
 * then be copied out; a 20 MB snapshot cost some 190 MB of buffers that way. A hint too small costs
 * what `encode` costs; one too large, one copy.
 */
export function encodeLarge(value: unknown, sizeHint: number): Uint8Array {
  packr.useBuffer(Buffer.allocUnsafeSlow(Math.max(Math.ceil(sizeHint), SCRATCH_BYTES)));
  const view = packr.pack(value, RESET_BUFFER_MODE);
  // The packed bytes stay where they are, in a buffer msgpackr must not write into again.
  packr.useBuffer(Buffer.allocUnsafeSlow(SCRATCH_BYTES));
  return view.length >= view.buffer.byteLength * LARGE_FILL_MIN ? view : Uint8Array.prototype.slice.call(view);
}

/** Throws on malformed input: callers at a trust boundary catch and answer with an error. */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
