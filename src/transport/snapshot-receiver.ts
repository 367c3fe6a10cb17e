import { createHash, type Hash } from 'node:crypto';
import type { NodeId, SnapshotMessage } from '../raft/index.ts';
import type { SnapshotAckFrame, SnapshotChunkFrame, SnapshotHeader, SnapshotStreamLimits } from './snapshot-chunks.ts';

interface Assembly {
  readonly transfer: number;
  readonly header: SnapshotHeader;
  readonly data: Buffer;
  readonly hash: Hash;
  received: number;
  nextSeq: number;
}

export interface SnapshotReceiverOptions {
  readonly limits: SnapshotStreamLimits;
  readonly ack: (to: NodeId, frame: SnapshotAckFrame) => void;
  /** A whole, verified snapshot message, ready for the Raft core. */
  readonly deliver: (from: NodeId, message: SnapshotMessage) => void;
}

/**
 * Reassembles streamed snapshots, one at a time per sender. Chunks must arrive in order (each peer
 * link is one ordered socket); a gap, an overrun or a digest mismatch drops the assembly without an
 * acknowledgement, and the sender's idle timeout ends its side.
 */
export class SnapshotReceiver {
  private readonly assemblies = new Map<NodeId, Assembly>();
  rejected = 0;

  constructor(private readonly options: SnapshotReceiverOptions) {}

  onChunk(from: NodeId, chunk: SnapshotChunkFrame): void {
    if (chunk.seq === 0) this.begin(from, chunk);
    const assembly = this.assemblies.get(from);
    if (assembly === undefined || assembly.transfer !== chunk.transfer) return;
    if (chunk.seq !== assembly.nextSeq || assembly.received + chunk.data.length > assembly.header.bytes) {
      this.reject(from);
      return;
    }
    assembly.data.set(chunk.data, assembly.received);
    assembly.hash.update(chunk.data);
    assembly.received += chunk.data.length;
    assembly.nextSeq++;
    if (assembly.received === assembly.header.bytes && !this.complete(from, assembly)) return;
    this.options.ack(from, { t: 'snapshotAck', transfer: chunk.transfer, seq: chunk.seq });
  }

  /** Drops whatever a departed peer was sending. */
  forget(from: NodeId): void {
    this.assemblies.delete(from);
  }

  private begin(from: NodeId, chunk: SnapshotChunkFrame): void {
    const header = chunk.header;
    this.assemblies.delete(from);
    if (!isSaneHeader(header, this.options.limits.snapshotBytesMax)) {
      this.rejected++;
      return;
    }
    this.assemblies.set(from, {
      transfer: chunk.transfer,
      header: header,
      data: Buffer.allocUnsafe(header.bytes),
      hash: createHash('sha256'),
      received: 0,
      nextSeq: 0,
    });
  }

  /** Hands the snapshot over if it matches its digest; false (and nothing delivered) otherwise. */
  private complete(from: NodeId, assembly: Assembly): boolean {
    this.assemblies.delete(from);
    const digest = assembly.hash.digest();
    if (!digest.equals(Buffer.from(assembly.header.digest))) {
      this.rejected++;
      return false;
    }
    const { message } = assembly.header;
    this.options.deliver(from, { ...message, snapshot: { meta: message.snapshot.meta, data: new Uint8Array(assembly.data.buffer, assembly.data.byteOffset, assembly.data.length) } });
    return true;
  }

  private reject(from: NodeId): void {
    this.assemblies.delete(from);
    this.rejected++;
  }
}

/** The header comes from a peer: checked before a buffer of its stated size is allocated. */
function isSaneHeader(header: SnapshotHeader | undefined, bytesMax: number): header is SnapshotHeader {
  if (header === undefined || typeof header.message !== 'object' || header.message === null) return false;
  if (header.message.type !== 'snapshot' || typeof header.message.snapshot?.meta !== 'object') return false;
  return header.digest instanceof Uint8Array && Number.isSafeInteger(header.bytes) && header.bytes >= 0 && header.bytes <= bytesMax;
}
