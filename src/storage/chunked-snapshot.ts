import { createHash } from 'node:crypto';
import type { SnapshotMeta } from '../raft/index.ts';
import { decode, encode } from '../shared/codec.ts';
import { assert } from '../shared/index.ts';
import { CHECKSUM_BYTES, checksumOf } from './checksum.ts';
import { LINK_BYTES } from './entry-codec.ts';

/**
 * A local snapshot is stored as chunks of this size under keys of their own, written one LevelDB
 * batch at a time, plus a small record that describes them. Written whole, a 120 MB snapshot held
 * a node's event loop for 0.6-1.1 s (a copy into one record, its checksum, classic-level's copy into
 * the batch) and LevelDB's writer for another second, with the log's own writes queued behind it.
 */
export const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;

/** First byte of a chunked snapshot's record; 0xc1 starts a whole one, and neither starts msgpack. */
export const CHUNKED_RECORD_MARK = 0xc2;
const HEADER_BYTES = 1 + CHECKSUM_BYTES;

/** What the record of a chunked snapshot holds: everything but the data, and how to check the data. */
export interface ChunkedSnapshotRecord {
  readonly meta: SnapshotMeta;
  readonly link: Uint8Array;
  /** Of all the chunks, in order. */
  readonly dataChecksum: Uint8Array;
  readonly bytes: number;
  readonly chunks: number;
}

export function chunkCount(bytes: number): number {
  return Math.ceil(bytes / SNAPSHOT_CHUNK_BYTES);
}

export function chunkOf(data: Uint8Array, chunk: number): Uint8Array {
  assert(Number.isSafeInteger(chunk) && chunk >= 0 && chunk < chunkCount(data.length), 'snapshot chunk number outside the data');
  return data.subarray(chunk * SNAPSHOT_CHUNK_BYTES, (chunk + 1) * SNAPSHOT_CHUNK_BYTES);
}

/** Hashes the data a chunk at a time, as the chunks are written or read back. */
export class DataChecksum {
  private readonly hash = createHash('sha256');

  add(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  digest(): Uint8Array {
    return new Uint8Array(this.hash.digest().subarray(0, CHECKSUM_BYTES));
  }
}

export function encodeChunkedRecord(record: ChunkedSnapshotRecord): Uint8Array {
  // Paired with `decodeChunkedRecord`: a record it would refuse must never be written.
  assert(record.chunks === chunkCount(record.bytes), 'a chunked snapshot record must count the chunks of its size');
  assert(record.link.length === LINK_BYTES && record.dataChecksum.length === CHECKSUM_BYTES, 'a chunked snapshot record holds a whole link and checksum');
  const body = encode(record);
  const bytes = new Uint8Array(HEADER_BYTES + body.length);
  bytes[0] = CHUNKED_RECORD_MARK;
  bytes.set(checksumOf(body), 1);
  bytes.set(body, HEADER_BYTES);
  return bytes;
}

/** The record, or undefined when it fails its checksum or does not have the right shape. */
export function decodeChunkedRecord(bytes: Uint8Array): ChunkedSnapshotRecord | undefined {
  if (bytes[0] !== CHUNKED_RECORD_MARK || bytes.length <= HEADER_BYTES) return undefined;
  const body = bytes.subarray(HEADER_BYTES);
  if (!Buffer.from(checksumOf(body)).equals(Buffer.from(bytes.subarray(1, HEADER_BYTES)))) return undefined;
  try {
    const record = decode(body) as Partial<ChunkedSnapshotRecord>;
    const sound =
      typeof record.meta === 'object' &&
      record.link instanceof Uint8Array &&
      record.link.length === LINK_BYTES &&
      record.dataChecksum instanceof Uint8Array &&
      record.dataChecksum.length === CHECKSUM_BYTES &&
      Number.isSafeInteger(record.bytes) &&
      record.chunks === chunkCount(record.bytes ?? -1);
    return sound ? (record as ChunkedSnapshotRecord) : undefined;
  } catch {
    return undefined;
  }
}
