import { describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../../src/raft/index.ts';
import { AssertionError } from '../../../src/shared/index.ts';
import type { PeerIdentity } from '../../../src/transport/peer-frames.ts';
import { AcceptorHandshake, DialerHandshake } from '../../../src/transport/peer-handshake.ts';
import type { SnapshotChunkFrame, SnapshotStreamLimits } from '../../../src/transport/snapshot-chunks.ts';
import { SnapshotReceiver } from '../../../src/transport/snapshot-receiver.ts';
import { SnapshotSender } from '../../../src/transport/snapshot-sender.ts';

const limits: SnapshotStreamLimits = { chunkBytes: 1000, windowChunks: 3, idleTimeoutMs: 60_000, snapshotBytesMax: 100_000 };
const dialerSelf: PeerIdentity = { id: 'dialer', address: '127.0.0.1:7001', founders: null };
const acceptorSelf: PeerIdentity = { id: 'acceptor', address: '127.0.0.1:7002', founders: null };

function snapshotMessage(bytes: number): SnapshotMessage {
  return {
    type: 'snapshot',
    from: 'leader',
    to: 'follower',
    term: 3,
    snapshot: { meta: { index: 42, term: 3, membership: { voters: ['leader', 'follower'], learners: [] } }, data: new Uint8Array(bytes) },
  };
}

// Goal: what the transport's own callers must honour fails loudly, and what a peer sends never does.
describe('transport assertions', () => {
  it('a dialer says hello once per connection, and hears answers only after it', () => {
    const unsent = new DialerHandshake(undefined, dialerSelf);
    expect(() => unsent.onFrame({ t: 'helloAck', v: 3, ...acceptorSelf })).toThrow(AssertionError);
    const dialer = new DialerHandshake(undefined, dialerSelf);
    const hello = dialer.hello();
    expect(() => dialer.hello()).toThrow(AssertionError);
    const ack = new AcceptorHandshake(undefined, acceptorSelf).onFrame(hello);
    if (ack.kind !== 'sendThenAccept') throw new Error(`expected helloAck, got ${ack.kind}`);
    expect(dialer.onFrame(ack.frame).kind).toBe('accept');
  });

  it('snapshot streams need a window and chunks that hold something', () => {
    const send = () => true;
    expect(() => new SnapshotSender({ limits: { ...limits, windowChunks: 0 }, send })).toThrow(AssertionError);
    expect(() => new SnapshotSender({ limits: { ...limits, chunkBytes: 0 }, send })).toThrow(AssertionError);
    expect(() => new SnapshotReceiver({ limits: { ...limits, snapshotBytesMax: -1 }, ack: () => undefined, deliver: () => undefined })).toThrow(AssertionError);
  });

  it('acknowledgements a follower makes up move the transfer only over chunks sent, and never throw', () => {
    const sent: SnapshotChunkFrame[] = [];
    const sender = new SnapshotSender({ limits, send: (_to, frame) => sent.push(frame) > 0 });
    sender.send(snapshotMessage(10_000));
    expect(sent).toHaveLength(3);
    const transfer = sent[0]!.transfer;
    // Far ahead of what was sent: taken as everything sent so far, and the window moves on.
    sender.onAck('follower', { t: 'snapshotAck', transfer, seq: Number.MAX_SAFE_INTEGER });
    expect(sent.map((frame) => frame.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    // Stale, repeated, for another transfer, from another peer: ignored.
    sender.onAck('follower', { t: 'snapshotAck', transfer, seq: 1 });
    sender.onAck('follower', { t: 'snapshotAck', transfer: transfer + 1, seq: 9 });
    sender.onAck('someone', { t: 'snapshotAck', transfer, seq: 9 });
    expect(sent).toHaveLength(6);
    expect(sender.completed + sender.abandoned).toBe(0);
    // Each claim of the last chunk counts only up to what was sent, until it really was.
    for (let claims = 0; claims < 3; claims++) sender.onAck('follower', { t: 'snapshotAck', transfer, seq: 9 });
    expect(sent).toHaveLength(10);
    expect(sender.completed).toBe(1);
    sender.close();
  });
});
