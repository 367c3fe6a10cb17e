import { Packr } from 'msgpackr';

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

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Throws on malformed input: callers at a trust boundary catch and answer with an error. */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
