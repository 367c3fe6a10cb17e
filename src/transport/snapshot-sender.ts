import { createHash } from 'node:crypto';
import type { NodeId, SnapshotMessage } from '../raft/index.ts';
import type { SnapshotAckFrame, SnapshotChunkFrame, SnapshotStreamLimits } from './snapshot-chunks.ts';

interface Transfer {
  readonly id: number;
  readonly message: SnapshotMessage;
  readonly chunks: number;
  nextSeq: number;
  acked: number;
  idleTimer: NodeJS.Timeout;
}

export interface SnapshotSenderOptions {
  readonly limits: SnapshotStreamLimits;
  /** False when the frame could not be queued (link down or its buffer full). */
  readonly send: (to: NodeId, frame: SnapshotChunkFrame) => boolean;
}

/**
 * Streams snapshots to followers, one transfer per follower, at most `windowChunks` chunks ahead of
 * the follower's acknowledgements: a slow follower slows its own transfer, never the leader's memory.
 * A transfer that fails is dropped silently; the Raft core notices the follower is still behind
 * (snapshot timeout) and sends the snapshot again.
 */
export class SnapshotSender {
  private readonly transfers = new Map<NodeId, Transfer>();
  private nextTransferId = 1;
  started = 0;
  completed = 0;
  abandoned = 0;

  constructor(private readonly options: SnapshotSenderOptions) {}

  send(message: SnapshotMessage): void {
    this.abandon(message.to);
    const chunks = Math.max(1, Math.ceil(message.snapshot.data.length / this.options.limits.chunkBytes));
    const transfer: Transfer = { id: this.nextTransferId++, message, chunks, nextSeq: 0, acked: -1, idleTimer: this.idleTimer(message.to) };
    this.transfers.set(message.to, transfer);
    this.started++;
    this.pump(transfer);
  }

  onAck(from: NodeId, ack: SnapshotAckFrame): void {
    const transfer = this.transfers.get(from);
    if (transfer === undefined || transfer.id !== ack.transfer || ack.seq <= transfer.acked) return;
    transfer.acked = Math.min(ack.seq, transfer.nextSeq - 1);
    transfer.idleTimer.refresh();
    if (transfer.acked === transfer.chunks - 1) {
      this.finish(from, transfer);
      this.completed++;
      return;
    }
    this.pump(transfer);
  }

  /** A follower's link went down: its transfer cannot continue. */
  abandon(to: NodeId): void {
    const transfer = this.transfers.get(to);
    if (transfer === undefined) return;
    this.finish(to, transfer);
    this.abandoned++;
  }

  close(): void {
    for (const to of [...this.transfers.keys()]) this.abandon(to);
  }

  private pump(transfer: Transfer): void {
    const { chunkBytes, windowChunks } = this.options.limits;
    const data = transfer.message.snapshot.data;
    while (transfer.nextSeq < transfer.chunks && transfer.nextSeq - transfer.acked <= windowChunks) {
      const seq = transfer.nextSeq;
      const frame: SnapshotChunkFrame = {
        t: 'snapshotChunk',
        transfer: transfer.id,
        seq,
        data: data.subarray(seq * chunkBytes, (seq + 1) * chunkBytes),
        ...(seq === 0 ? { header: headerOf(transfer.message) } : {}),
      };
      if (!this.options.send(transfer.message.to, frame)) {
        this.abandon(transfer.message.to);
        return;
      }
      transfer.nextSeq++;
    }
  }

  private idleTimer(to: NodeId): NodeJS.Timeout {
    const timer = setTimeout(() => this.abandon(to), this.options.limits.idleTimeoutMs);
    timer.unref();
    return timer;
  }

  private finish(to: NodeId, transfer: Transfer): void {
    clearTimeout(transfer.idleTimer);
    this.transfers.delete(to);
  }
}

function headerOf(message: SnapshotMessage): SnapshotChunkFrame['header'] {
  const { snapshot, ...rest } = message;
  return {
    message: { ...rest, snapshot: { meta: snapshot.meta } },
    bytes: snapshot.data.length,
    digest: new Uint8Array(createHash('sha256').update(snapshot.data).digest()),
  };
}
