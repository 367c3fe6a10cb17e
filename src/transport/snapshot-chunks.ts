import { isSnapshotAnnouncement, type SnapshotMessage } from '../raft/index.ts';
import { isCount } from '../shared/index.ts';

/**
 * A Raft snapshot message travels as a stream of bounded chunks instead of one frame: a frame as big
 * as the whole queue state would need a frame limit that large on every peer socket, and would hold
 * the link (and the receiver's memory for a second copy) for its whole length.
 */
export interface SnapshotHeader {
  /** The snapshot message without its data. */
  readonly message: Omit<SnapshotMessage, 'snapshot'> & { readonly snapshot: { readonly meta: SnapshotMessage['snapshot']['meta'] } };
  readonly bytes: number;
  /** SHA-256 of the data: a reassembled snapshot that does not match is never handed to Raft. */
  readonly digest: Uint8Array;
}

export interface SnapshotChunkFrame {
  readonly t: 'snapshotChunk';
  /** Chosen by the sender; a new transfer from the same peer replaces an unfinished one. */
  readonly transfer: number;
  readonly seq: number;
  readonly data: Uint8Array;
  /** On the first chunk only. */
  readonly header?: SnapshotHeader;
}

/** Cumulative: every chunk up to `seq` has arrived. `done` once the snapshot was handed to Raft. */
export interface SnapshotAckFrame {
  readonly t: 'snapshotAck';
  readonly transfer: number;
  readonly seq: number;
}

export interface SnapshotStreamLimits {
  readonly chunkBytes: number;
  /** Chunks sent and not yet acknowledged, per transfer. */
  readonly windowChunks: number;
  /** A transfer with no acknowledgement for this long is abandoned; Raft sends the snapshot again. */
  readonly idleTimeoutMs: number;
  /** The largest snapshot a receiver accepts (it holds the whole of it in memory). */
  readonly snapshotBytesMax: number;
}

export const DEFAULT_SNAPSHOT_STREAM_LIMITS: SnapshotStreamLimits = {
  chunkBytes: 1024 * 1024,
  windowChunks: 4,
  // A follower acknowledges each chunk as it arrives, so 10 s without one is far beyond a chunk's
  // time on the wire: the link or the follower is stuck, and Raft's next attempt starts afresh.
  idleTimeoutMs: 10_000,
  snapshotBytesMax: 2 * 1024 * 1024 * 1024,
};

export function isSnapshotChunk(value: { t?: unknown; transfer?: unknown; seq?: unknown; data?: unknown; header?: unknown }): boolean {
  if (!isSequence(value.transfer) || !isSequence(value.seq) || !(value.data instanceof Uint8Array)) return false;
  return value.header === undefined || isSnapshotHeader(value.header);
}

export function isSnapshotAck(value: { t?: unknown; transfer?: unknown; seq?: unknown }): boolean {
  return isSequence(value.transfer) && isSequence(value.seq);
}

/** Checked in full before anything is allocated for the transfer it announces. */
function isSnapshotHeader(value: unknown): value is SnapshotHeader {
  if (typeof value !== 'object' || value === null) return false;
  const header = value as { message?: unknown; bytes?: unknown; digest?: unknown };
  if (!(header.digest instanceof Uint8Array) || header.digest.length !== 32) return false;
  if (typeof header.bytes !== 'number' || !Number.isSafeInteger(header.bytes) || header.bytes < 0) return false;
  return isSnapshotAnnouncement(header.message);
}

function isSequence(value: unknown): value is number {
  return isCount(value);
}
