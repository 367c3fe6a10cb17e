import type { Message, NodeId, Raft } from '../../raft/index.ts';
import { DEFAULT_SNAPSHOT_STREAM_LIMITS, type PeerFrame, SnapshotReceiver, SnapshotSender } from '../../transport/index.ts';
import type { ClusterClock } from '../clocks/index.ts';
import type { MembershipService, PeerActivity } from '../membership/index.ts';
import type { RequestPath } from '../requests/index.ts';

/** The peer links, as this node's parts use them (`PeerTransport`). */
export interface PeerSender {
  send(to: NodeId, frame: PeerFrame): boolean;
}

export interface PeerExchangeOptions {
  readonly transport: PeerSender;
  /** The ready loop: Raft messages from peers are stepped there. */
  readonly core: { submit(input: (raft: Raft) => void): void };
  readonly requests: RequestPath;
  readonly membership: MembershipService;
  readonly clock: ClusterClock;
  readonly activity: PeerActivity;
}

/**
 * What this node says to its peers and what it does with what they say: every frame from an
 * authenticated link goes to the one part that handles its kind, and the core's messages go out,
 * a snapshot as a stream of chunks. A frame whose sender field names another node than the link's
 * is dropped: a peer speaks only for itself.
 */
export class PeerExchange {
  private readonly snapshotSender: SnapshotSender;
  private readonly snapshotReceiver: SnapshotReceiver;

  constructor(private readonly options: PeerExchangeOptions) {
    this.snapshotSender = new SnapshotSender({
      limits: DEFAULT_SNAPSHOT_STREAM_LIMITS,
      send: (to, frame) => options.transport.send(to, frame),
    });
    this.snapshotReceiver = new SnapshotReceiver({
      limits: DEFAULT_SNAPSHOT_STREAM_LIMITS,
      ack: (to, frame) => options.transport.send(to, frame),
      deliver: (from, message) => this.onRaftMessage(from, message),
    });
  }

  get snapshotStreams(): { completed: number; abandoned: number; rejected: number } {
    return { completed: this.snapshotSender.completed, abandoned: this.snapshotSender.abandoned, rejected: this.snapshotReceiver.rejected };
  }

  /** A message of the core for a peer. */
  sendRaft(message: Message): void {
    if (message.type === 'snapshot') this.snapshotSender.send(message);
    else this.options.transport.send(message.to, { t: 'raft', message, clock: this.options.clock.wallMs() });
  }

  onFrame(from: NodeId, frame: PeerFrame): void {
    this.options.activity.heard(from, this.options.clock.monoMs());
    switch (frame.t) {
      case 'raft':
        if (frame.message.from === from && frame.clock !== undefined) this.options.clock.heard(from, frame.clock);
        this.onRaftMessage(from, frame.message);
        return;
      case 'forward':
        this.options.requests.onForward(from, frame.requestId, frame.request as unknown as Record<string, unknown>);
        return;
      case 'forwardReply':
        this.options.requests.onForwardReply(from, frame);
        return;
      case 'snapshotChunk':
        this.snapshotReceiver.onChunk(from, frame);
        return;
      case 'snapshotAck':
        this.snapshotSender.onAck(from, frame);
        return;
      case 'gossip':
        if (frame.message.from === from) this.options.membership.onMessage(frame.message);
        return;
      case 'hello':
      case 'helloAck':
      case 'auth':
        return;
    }
  }

  /** The link to `peer` dropped: what was under way with it ends, and a follower may look for another leader. */
  onLinkDown(peer: NodeId): void {
    this.options.requests.onLinkDown(peer);
    this.options.clock.forget(peer);
    this.options.core.submit((raft) => raft.leaderUnreachable(peer));
    this.snapshotSender.abandon(peer);
    this.snapshotReceiver.forget(peer);
  }

  close(): void {
    this.snapshotSender.close();
  }

  private onRaftMessage(from: NodeId, message: Message): void {
    if (message.from === from) this.options.core.submit((raft) => raft.step(message));
  }
}
