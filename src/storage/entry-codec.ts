import { createHash } from 'node:crypto';
import type { Entry, EntryKind, Membership } from '../raft/index.ts';
import { decode, encode } from '../shared/codec.ts';
import { assert } from '../shared/index.ts';
import { StorageCorruptionError } from './storage-errors.ts';

/** Bytes of the hash chain link stored with every entry. */
export const LINK_BYTES = 16;
export const GENESIS_LINK = new Uint8Array(LINK_BYTES);

const KIND_CODES: Record<EntryKind, number> = { normal: 0, config: 1, noop: 2 };
const KINDS: EntryKind[] = ['normal', 'config', 'noop'];

/**
 * An entry on disk: its body, and a link that hashes the previous entry's link with this body.
 * LevelDB drops damaged records silently on open; the chain makes a dropped, torn, flipped or
 * misplaced entry visible when the log is loaded.
 */
export function encodeEntry(entry: Entry, previousLink: Uint8Array): { value: Uint8Array; link: Uint8Array } {
  // Paired with `decodeEntry`: a link of another length makes a chain no load ever verifies.
  assert(previousLink.length === LINK_BYTES, 'a hash chain link is LINK_BYTES long');
  assert(
    Number.isSafeInteger(entry.index) && entry.index >= 1 && Number.isSafeInteger(entry.term) && entry.term >= 0,
    'entries are numbered from 1, in terms from 0',
  );
  const body = encode([entry.index, entry.term, KIND_CODES[entry.kind], entry.data, entry.membership ?? null]);
  const link = chainLink(previousLink, body);
  const value = new Uint8Array(LINK_BYTES + body.length);
  value.set(link, 0);
  value.set(body, LINK_BYTES);
  return { value, link };
}

export function decodeEntry(value: Uint8Array, previousLink: Uint8Array, expectedIndex: number): { entry: Entry; link: Uint8Array } {
  if (value.length <= LINK_BYTES) throw new StorageCorruptionError(`log entry ${expectedIndex} is truncated`);
  const link = value.subarray(0, LINK_BYTES);
  const body = value.subarray(LINK_BYTES);
  if (!sameBytes(link, chainLink(previousLink, body))) {
    throw new StorageCorruptionError(`log entry ${expectedIndex} fails its hash chain (damaged, or an entry before it is)`);
  }
  const [index, term, kindCode, data, membership] = decode(body) as [number, number, number, Uint8Array, Membership | null];
  const kind = KINDS[kindCode];
  if (index !== expectedIndex || kind === undefined) throw new StorageCorruptionError(`log entry ${expectedIndex} is misplaced`);
  const entry: Entry = membership === null ? { index, term, kind, data } : { index, term, kind, data, membership };
  return { entry, link: new Uint8Array(link) };
}

function chainLink(previousLink: Uint8Array, body: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(previousLink).update(body).digest().subarray(0, LINK_BYTES));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
