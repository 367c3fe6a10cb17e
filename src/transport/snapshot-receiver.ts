import { createHash, type Hash } from 'node:crypto';
import type { NodeId, SnapshotMessage } from '../raft/index.ts';
import { assert } from '../shared/index.ts';
import type { SnapshotAckFrame, SnapshotChunkFrame, SnapshotHeader, SnapshotStreamLimits } from './snapshot-chunks.ts';

interface Assembly {
  readonly transfer: number;
  readonly header: SnapshotHeader;
  /**
   * The chunks so far. Memory follows what arrived, never what the header announced: a header
   * naming 2 GiB costs nothing until 2 GiB have actually come in, each chunk checked on the way.
   */
  readonly chunks: Uint8Array[];
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

  constructor(private readonly options: SnapshotReceiverOptions) {
    const { snapshotBytesMax } = options.limits;
    assert(Number.isSafeInteger(snapshotBytesMax) && snapshotBytesMax >= 0, 'the largest snapshot accepted is a byte count');
  }

  onChunk(from: NodeId, chunk: SnapshotChunkFrame): void {
    if (chunk.seq === 0) this.begin(from, chunk);
    const assembly = this.assemblies.get(from);
    if (assembly === undefined || assembly.transfer !== chunk.transfer) return;
    if (chunk.seq !== assembly.nextSeq || assembly.received + chunk.data.length > assembly.header.bytes) {
      this.reject(from);
      return;
    }
    assembly.chunks.push(chunk.data);
    assembly.hash.update(chunk.data);
    assembly.received += chunk.data.length;
    assembly.nextSeq++;
    // What the checks above refused is what keeps these: memory follows what arrived, in order,
    // and never goes past what the header announced.
    assert(
      assembly.chunks.length === assembly.nextSeq && assembly.received <= assembly.header.bytes,
      'an assembly holds its chunks in order, within its header',
    );
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
      chunks: [],
      hash: createHash('sha256'),
      received: 0,
      nextSeq: 0,
    });
  }

  /** Hands the snapshot over if it matches its digest; false (and nothing delivered) otherwise. */
  private complete(from: NodeId, assembly: Assembly): boolean {
    assert(assembly.received === assembly.header.bytes, 'a snapshot completes only with every byte its header announced');
    this.assemblies.delete(from);
    const digest = assembly.hash.digest();
    if (!digest.equals(Buffer.from(assembly.header.digest))) {
      this.rejected++;
      return false;
    }
    const { message } = assembly.header;
    // `Buffer.concat` pads with zeros up to the length it is given: the count must be the chunks' own.
    let held = 0;
    for (const chunk of assembly.chunks) held += chunk.length;
    assert(held === assembly.received, 'the bytes received are the bytes the chunks hold');
    const data = Buffer.concat(assembly.chunks, assembly.received);
    this.options.deliver(from, { ...message, snapshot: { meta: message.snapshot.meta, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } });
    return true;
  }

  private reject(from: NodeId): void {
    this.assemblies.delete(from);
    this.rejected++;
  }
}

/** The header's shape was checked with the frame (`isSnapshotChunk`); its size is checked here. */
function isSaneHeader(header: SnapshotHeader | undefined, bytesMax: number): header is SnapshotHeader {
  return header !== undefined && header.bytes <= bytesMax;
}
