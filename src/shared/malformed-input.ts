/**
 * Bytes or text from a client or a peer that we refuse to decode: unaccepted msgpack formats, too
 * deep a nesting, a truncated value. An operating condition, not a bug: the edge that reads the
 * input answers with an error (or drops the peer frame) and carries on. The message is the reason.
 */
export class MalformedInput extends Error {
  override name = 'MalformedInput';
}
