import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { MalformedInput } from './malformed-input.ts';
import { checkMsgpack, type MsgpackLimits } from './msgpack-check.ts';

/**
 * The msgpack configuration used on disk and on the wire. Options are spelled out: structure sharing
 * would make a frame depend on state held by the other side, which a reconnecting peer or a
 * restarted node does not have; and small values gain nothing from records (see `largePackr`).
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/**
 * Large values (snapshots) are packed with records: each object shape's keys are written once, at
 * its first use, instead of in every object (10,000 acked-message records: 2.7 MB and 9 ms without,
 * 1.0 MB and 5 ms with). The shapes are defined inline, in the value itself, never shared between
 * encodings, so the bytes stand alone; the one decoder below reads them, and values packed without.
 */
const largePackr = new Packr({
  useRecords: true,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/** Above this, the scratch buffer is swapped for a small one so one huge value does not pin it. */
const SCRATCH_BYTES_MAX = 1 << 20;
/** A fresh scratch buffer, swapped in after a large encoding. */
const SCRATCH_BYTES = 64 * 1024;

/**
 * `pack` returns a view into msgpackr's shared, growing scratch buffer; a log entry keeping such a
 * view pins the whole buffer for as long as the entry lives. The result is copied into a buffer of
 * its own size, and the scratch space is reused.
 */
export function encode(value: unknown): Uint8Array {
  return packOwned(packr, value);
}

/**
 * Packs a part of a large value (see `SlicedEncoding`) with records, into bytes of its own: the
 * records it uses are defined in it, so parts encoded apart can be joined.
 */
export function encodeRecords(value: unknown): Uint8Array {
  return packOwned(largePackr, value);
}

function packOwned(packer: Packr, value: unknown): Uint8Array {
  const view = packer.pack(value, RESET_BUFFER_MODE);
  const owned = Uint8Array.prototype.slice.call(view);
  if (view.length > SCRATCH_BYTES_MAX) packer.useBuffer(Buffer.allocUnsafeSlow(SCRATCH_BYTES));
  return owned;
}

/**
 * Decodes our own bytes (disk, snapshots with records). Throws on malformed input, but honours every
 * msgpackr extension and recurses: bytes from a client or a peer go through `decodeChecked`.
 */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/**
 * Decodes bytes from a client or a peer: only the formats `encode` writes, nested at most
 * `limits.depthMax` deep, else a `MalformedInput` with the reason, before msgpackr reads a byte.
 */
export function decodeChecked(bytes: Uint8Array, limits: MsgpackLimits): unknown {
  const reason = checkMsgpack(bytes, limits);
  if (reason !== undefined) throw new MalformedInput(reason);
  return decode(bytes);
}
