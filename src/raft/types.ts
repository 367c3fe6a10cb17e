/** Wire and storage types of the consensus core. Plain data only: they cross disks and sockets. */

export type NodeId = string;

/** No node: used for "no vote yet" and "no known leader". */
export const NONE: NodeId = '';

/**
 * The voting configuration. It changes one server at a time and takes effect as soon as its entry is
 * appended to a log (Raft thesis §4.1), so each node always uses the newest configuration it holds.
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type EntryKind = 'normal' | 'config' | 'noop';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  /** Opaque application bytes for `normal`; empty for `noop`. */
  readonly data: Uint8Array;
  /** The whole new configuration, for `config` entries only. */
  readonly membership?: Membership;
}

/** What must be on stable storage before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state at `meta.index`, opaque to the core. */
  readonly data: Uint8Array;
}

/** A place in a log, named by the index and term of the entry there (0/0 before the first). */
export interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/** Everything a node finds on its disk when it starts. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot?: Snapshot;
  /** Contiguous entries following the snapshot (or starting at index 1 without one). */
  readonly entries: readonly Entry[];
  /**
   * Set when the disk lost entries this node may have acknowledged or voted with, up to this
   * position (the last entry of its log then). The node starts *recovering*: it neither votes nor
   * campaigns, and leaders do not count its acknowledgements, until its durable log, rebuilt from
   * leaders, reaches this index or holds an entry of a later term (protocol-aware recovery,
   * RELIABILITY R11).
   */
  readonly recovery?: LogPosition;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  /** On success: the last index known to match. On rejection: the `prevIndex` that did not match. */
  readonly index: number;
  readonly reject: boolean;
  /** On rejection: an index at or below which the follower's log may match (fast backtracking). */
  readonly rejectHint: number;
  /** On rejection: the follower's term at `rejectHint`. */
  readonly rejectTerm: number;
  /** Sent by a recovering node: its answers promise nothing toward a quorum (see `PersistedState.recovery`). */
  readonly recovering?: boolean;
}

export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  /** min(leader commit, follower match): a follower never learns a commit beyond what it matches. */
  readonly commit: number;
  /** ReadIndex round this heartbeat confirms, if any. */
  readonly readContext: string;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly readContext: string;
  /** Sent by a recovering node, so that a leader with nothing new to append still learns of it. */
  readonly recovering?: boolean;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set when campaigning on a leadership transfer: voters then skip the leader-lease check. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly readContext: string;
}

export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly readContext: string;
  /** The commit index the read must wait for; 0 when the leader refused. */
  readonly index: number;
  readonly reject: boolean;
  /** Why a refused read was refused: the asker may retry elsewhere only after NOT_LEADER. */
  readonly refusal: ReadRefusal;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/** A linearizable read may be served once the local state machine has applied `index`. */
export interface ReadState {
  readonly context: string;
  readonly index: number;
}

export type ReadRefusal = 'NOT_LEADER' | 'READ_DROPPED';

/** A read the core could not serve: no leader or leadership lost (NOT_LEADER), too many pending (READ_DROPPED). */
export interface ReadFailure {
  readonly context: string;
  readonly code: ReadRefusal;
}

export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId;
}

/**
 * The core's output. The caller must, in order: persist `snapshot`, `entries` (replacing any stored
 * entries from `entries[0].index` on) and `hardState` in one write, synced when `mustSync`; then send
 * `messages`; then install `snapshot` and apply `committedEntries`; then call `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly readFailures: readonly ReadFailure[];
  readonly mustSync: boolean;
}
