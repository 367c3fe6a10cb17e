import { createHash } from 'node:crypto';
import type { NodeId, SnapshotMessage } from '../raft/index.ts';
import { assert } from '../shared/index.ts';
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

  constructor(private readonly options: SnapshotSenderOptions) {
    const { chunkBytes, windowChunks } = options.limits;
    assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0, 'snapshot chunks hold at least a byte');
    // With no window a transfer would send nothing and wait for acknowledgements that never come.
    assert(Number.isSafeInteger(windowChunks) && windowChunks > 0, 'a snapshot transfer has at least one chunk in flight');
  }

  send(message: SnapshotMessage): void {
    this.abandon(message.to);
    const { chunkBytes } = this.options.limits;
    const bytes = message.snapshot.data.length;
    const chunks = Math.max(1, Math.ceil(bytes / chunkBytes));
    // Paired with the receiver, which hands the snapshot over once it holds exactly `bytes`.
    assert((chunks - 1) * chunkBytes < Math.max(bytes, 1) && chunks * chunkBytes >= bytes, 'snapshot chunks must cover the data exactly');
    const transfer: Transfer = { id: this.nextTransferId++, message, chunks, nextSeq: 0, acked: -1, idleTimer: this.idleTimer(message.to) };
    this.transfers.set(message.to, transfer);
    this.started++;
    this.pump(transfer);
    this.assertAccounted();
  }

  onAck(from: NodeId, ack: SnapshotAckFrame): void {
    const transfer = this.transfers.get(from);
    if (transfer === undefined || transfer.id !== ack.transfer || ack.seq <= transfer.acked) return;
    const before = transfer.acked;
    transfer.acked = Math.min(ack.seq, transfer.nextSeq - 1);
    // Whatever the follower says, only chunks sent can be acknowledged; and since a live transfer
    // always has one in flight (see `pump`), a newer acknowledgement always moves the mark.
    assert(transfer.acked > before && transfer.acked < transfer.nextSeq, 'acknowledged chunks must advance, and only over chunks sent');
    transfer.idleTimer.refresh();
    if (transfer.acked === transfer.chunks - 1) {
      this.finish(from, transfer);
      this.completed++;
      this.assertAccounted();
      return;
    }
    this.pump(transfer);
    this.assertAccounted();
  }

  /** A follower's link went down: its transfer cannot continue. */
  abandon(to: NodeId): void {
    const transfer = this.transfers.get(to);
    if (transfer === undefined) return;
    this.finish(to, transfer);
    this.abandoned++;
    this.assertAccounted();
  }

  close(): void {
    for (const to of [...this.transfers.keys()]) this.abandon(to);
  }

  private pump(transfer: Transfer): void {
    const { chunkBytes, windowChunks } = this.options.limits;
    const data = transfer.message.snapshot.data;
    while (transfer.nextSeq < transfer.chunks && transfer.nextSeq - transfer.acked <= windowChunks) {
      const seq = transfer.nextSeq;
      const chunk = data.subarray(seq * chunkBytes, (seq + 1) * chunkBytes);
      // Offsets advance by whole chunks: only the last may be short, and it ends the data.
      assert(
        seq === transfer.chunks - 1 ? seq * chunkBytes + chunk.length === data.length : chunk.length === chunkBytes,
        'a snapshot chunk must start where the one before it ended',
      );
      const frame: SnapshotChunkFrame = {
        t: 'snapshotChunk',
        transfer: transfer.id,
        seq,
        data: chunk,
        ...(seq === 0 ? { header: headerOf(transfer.message) } : {}),
      };
      if (!this.options.send(transfer.message.to, frame)) {
        this.abandon(transfer.message.to);
        return;
      }
      transfer.nextSeq++;
    }
    // A transfer ends only by its last acknowledgement or by being abandoned: one left with nothing
    // in flight would wait for its idle timeout instead.
    const inFlight = transfer.nextSeq - transfer.acked - 1;
    assert(inFlight >= 1 && inFlight <= windowChunks, 'a live snapshot transfer has between one and windowChunks chunks in flight');
  }

  private idleTimer(to: NodeId): NodeJS.Timeout {
    const timer = setTimeout(() => this.abandon(to), this.options.limits.idleTimeoutMs);
    timer.unref();
    return timer;
  }

  private finish(to: NodeId, transfer: Transfer): void {
    assert(this.transfers.get(to) === transfer, 'only the live transfer to a follower is finished, once');
    clearTimeout(transfer.idleTimer);
    this.transfers.delete(to);
  }

  /** Paired counts: every transfer started is live, completed or abandoned, exactly one of them. */
  private assertAccounted(): void {
    assert(this.started === this.completed + this.abandoned + this.transfers.size, 'every snapshot transfer is live, completed or abandoned');
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
