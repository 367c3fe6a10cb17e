import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../../src/raft/index.ts';
import type { SnapshotAckFrame, SnapshotChunkFrame, SnapshotStreamLimits } from '../../../src/transport/snapshot-chunks.ts';
import { SnapshotReceiver } from '../../../src/transport/snapshot-receiver.ts';
import { SnapshotSender } from '../../../src/transport/snapshot-sender.ts';

const limits: SnapshotStreamLimits = { chunkBytes: 1000, windowChunks: 3, idleTimeoutMs: 60_000, snapshotBytesMax: 100_000 };

function snapshotMessage(bytes: number, fill = 7): SnapshotMessage {
  const data = new Uint8Array(bytes).map((_, i) => (i * fill) % 251);
  return {
    type: 'snapshot',
    from: 'leader',
    to: 'follower',
    term: 3,
    snapshot: { meta: { index: 42, term: 3, membership: { voters: ['leader', 'follower'], learners: [] } }, data },
  };
}

/** A leader's sender and a follower's receiver joined by an explicit, step-by-step link. */
function pair(receiverLimits = limits) {
  const inFlight: SnapshotChunkFrame[] = [];
  const acks: SnapshotAckFrame[] = [];
  const delivered: SnapshotMessage[] = [];
  let linkUp = true;
  let mostInFlight = 0;
  const sender = new SnapshotSender({
    limits,
    send: (_to, frame) => {
      if (!linkUp) return false;
      inFlight.push(frame);
      mostInFlight = Math.max(mostInFlight, inFlight.length);
      return true;
    },
  });
  const receiver = new SnapshotReceiver({
    limits: receiverLimits,
    ack: (_to, frame) => acks.push(frame),
    deliver: (_from, message) => delivered.push(message),
  });
  /** Delivers every chunk in flight, then every acknowledgement, until nothing moves. */
  const run = (tamper: (frame: SnapshotChunkFrame) => SnapshotChunkFrame = (frame) => frame) => {
    while (inFlight.length > 0 || acks.length > 0) {
      for (const frame of inFlight.splice(0)) receiver.onChunk('leader', tamper(frame));
      for (const ack of acks.splice(0)) sender.onAck('follower', ack);
    }
  };
  return { sender, receiver, delivered, run, inFlight, mostInFlight: () => mostInFlight, cut: () => (linkUp = false) };
}

describe('snapshot streaming', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('delivers a snapshot many chunks long, byte for byte, never more than the window ahead', () => {
    const link = pair();
    close = () => link.sender.close();
    const message = snapshotMessage(10_500);
    link.sender.send(message);
    link.run();
    expect(link.delivered).toHaveLength(1);
    expect(Buffer.from(link.delivered[0]!.snapshot.data).equals(Buffer.from(message.snapshot.data))).toBe(true);
    expect(link.delivered[0]!.snapshot.meta).toEqual(message.snapshot.meta);
    expect(link.delivered[0]!.term).toBe(3);
    expect(link.mostInFlight()).toBeLessThanOrEqual(limits.windowChunks + 1);
    expect(link.sender.completed).toBe(1);
  });

  it('delivers an empty snapshot', () => {
    const link = pair();
    close = () => link.sender.close();
    link.sender.send(snapshotMessage(0));
    link.run();
    expect(link.delivered).toHaveLength(1);
    expect(link.delivered[0]!.snapshot.data.length).toBe(0);
  });

  it('never hands over a snapshot damaged on the way, and does not acknowledge its end', () => {
    const link = pair();
    close = () => link.sender.close();
    link.sender.send(snapshotMessage(5_000));
    link.run((frame) => (frame.seq === 2 ? { ...frame, data: frame.data.map((byte, i) => (i === 10 ? byte ^ 1 : byte)) } : frame));
    expect(link.delivered).toHaveLength(0);
    expect(link.receiver.rejected).toBe(1);
    expect(link.sender.completed).toBe(0);
  });

  it('refuses a snapshot larger than the receiver accepts before allocating it', () => {
    const link = pair({ ...limits, snapshotBytesMax: 4_000 });
    close = () => link.sender.close();
    link.sender.send(snapshotMessage(5_000));
    link.run();
    expect(link.delivered).toHaveLength(0);
    expect(link.receiver.rejected).toBe(1);
  });

  it('replaces an unfinished transfer with a newer one to the same follower', () => {
    const link = pair();
    close = () => link.sender.close();
    link.sender.send(snapshotMessage(5_000, 3));
    link.inFlight.splice(0);
    const newer = snapshotMessage(3_000, 5);
    link.sender.send(newer);
    link.run();
    expect(link.delivered).toHaveLength(1);
    expect(Buffer.from(link.delivered[0]!.snapshot.data).equals(Buffer.from(newer.snapshot.data))).toBe(true);
    expect(link.sender.abandoned).toBe(1);
  });

  it('abandons a transfer whose link is down; Raft will send the snapshot again', () => {
    const link = pair();
    close = () => link.sender.close();
    link.cut();
    link.sender.send(snapshotMessage(5_000));
    expect(link.sender.abandoned).toBe(1);
    expect(link.delivered).toHaveLength(0);
  });

  it('drops an assembly whose chunks arrive out of order', () => {
    const link = pair();
    close = () => link.sender.close();
    link.sender.send(snapshotMessage(5_000));
    const [first, second, third] = link.inFlight.splice(0);
    link.receiver.onChunk('leader', first!);
    link.receiver.onChunk('leader', third!);
    link.receiver.onChunk('leader', second!);
    expect(link.receiver.rejected).toBe(1);
    expect(link.delivered).toHaveLength(0);
  });
});
