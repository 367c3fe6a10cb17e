/** Wire types of the membership core. Plain data only: they cross sockets. */

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  readonly id: string;
  readonly address: string;
  /** Raised only by the member itself, to outbid claims about it (refutation, leave). */
  readonly incarnation: number;
  readonly state: MemberState;
  /** Tick at which state last changed (local count). */
  readonly since: number;
}

/**
 * One claim about one member, as gossiped. `by` is who made the claim: the accuser for `suspect`
 * and `dead`, the member itself for `alive` and `left`. Distinct accusers of one suspicion are what
 * shortens it, so the field travels with every copy.
 */
export interface MemberUpdate {
  readonly id: string;
  readonly address: string;
  readonly incarnation: number;
  readonly state: MemberState;
  readonly by: string;
}

interface MessageBase {
  readonly from: string;
  readonly to: string;
  /** Claims piggybacked on the message, fewest-transmitted first. */
  readonly updates: readonly MemberUpdate[];
}

/** A direct probe; also sent by a member probing on behalf of another (see `pingReq`). */
export interface PingMessage extends MessageBase {
  readonly type: 'ping';
  /** The sender's sequence number, echoed by the ack. */
  readonly probe: number;
}

export interface AckMessage extends MessageBase {
  readonly type: 'ack';
  readonly probe: number;
}

/** Asks `to` to ping `target` and relay the ack back under `probe`. */
export interface PingReqMessage extends MessageBase {
  readonly type: 'pingReq';
  readonly probe: number;
  readonly target: string;
  readonly targetAddress: string;
}

/**
 * A full-state exchange: sent on join, to a stranger that probes us, and periodically to one random
 * member, including ones believed dead, so that views split by a partition meet again. A `sync` is
 * answered by a `syncReply`; a reply is never answered.
 */
export interface SyncMessage extends MessageBase {
  readonly type: 'sync' | 'syncReply';
  readonly state: readonly MemberUpdate[];
}

export type GossipMessage = PingMessage | AckMessage | PingReqMessage | SyncMessage;

export type GossipMessageType = GossipMessage['type'];

export type MembershipEventType = 'joined' | 'alive' | 'suspect' | 'dead' | 'left' | 'forgotten';

/** A change in this node's view of a peer. The node's own entry never produces events. */
export interface MembershipEvent {
  readonly type: MembershipEventType;
  readonly member: Member;
}

/** Things that happened, for metrics and tests; overflow counters say what was dropped. */
export interface GossipCounters {
  readonly probes: number;
  readonly indirectProbes: number;
  /** Probes that ended without an ack, each raising or confirming a suspicion. */
  readonly probesFailed: number;
  readonly refutations: number;
  readonly syncsSent: number;
  /** New members not admitted because `membersMax` was reached. */
  readonly membersRejected: number;
  /** Indirect probes refused because too many were already being relayed. */
  readonly relaysRejected: number;
  /** Malformed claims from the network, ignored. */
  readonly updatesMalformed: number;
  /** Output beyond the pending bounds because the caller did not drain. */
  readonly messagesDropped: number;
  readonly eventsDropped: number;
}
