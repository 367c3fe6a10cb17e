/**
 * What clients ask of any node and what they get back: one vocabulary for HTTP/JSON, the
 * WebSocket protocol (msgpack frames) and forwarding from followers to the leader.
 */
export interface MessageInput {
  readonly body: unknown;
  readonly priority?: number;
  readonly delayMs?: number;
  readonly dedupId?: string;
  /** Milliseconds after enqueue at which the message expires to the dead-letter queue; 0 = never. */
  readonly ttlMs?: number;
}

export interface QueueConfigInput {
  readonly visibilityMs?: number;
  readonly maxDeliveries?: number;
  readonly deadLetterQueue?: string;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly dedupWindowMs?: number;
  readonly maxLength?: number;
  readonly maxBytes?: number;
  readonly messageTtlMs?: number;
  /** How long acked and dead messages stay visible to the message status route. */
  readonly retentionMs?: number;
}

/** How one delivery of a message ended; a message keeps the last few (ATTEMPT_HISTORY_MAX). */
export interface AttemptRecord {
  readonly attempt: number;
  readonly deliveredAt: number;
  readonly outcome: 'acked' | 'nacked' | 'leaseExpired';
  readonly endedAt: number;
  /** What the consumer said when it nacked. */
  readonly error?: string;
}

/** On a message in a dead-letter queue: the queue and id it came from, why it left, how its deliveries went. */
export interface DeadLetterOrigin {
  readonly queue: string;
  readonly id: string;
  readonly reason: 'maxDeliveries' | 'expired';
  readonly attempts: number;
  readonly history: readonly AttemptRecord[];
}

/** One message as `receive` hands it out: `receipt` names this one lease. */
export interface DeliveredMessage {
  readonly id: string;
  readonly seq: number;
  readonly receipt: string;
  readonly body: unknown;
  readonly attempt: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly deadLetter?: DeadLetterOrigin;
}

export interface Selector {
  readonly ids: readonly string[];
  readonly receipts: readonly string[];
}

/**
 * Stamped by the SDK on each enqueue request: its producer id, the request's number (the same on
 * every retry) and the number below which every request has its answer at the client.
 */
export interface ProducerStamp {
  readonly id: string;
  readonly seq: number;
  readonly settledBelow: number;
}

/** Operations that change queues: they go through the log, on the leader. */
export type WriteRequest =
  /** `batch`: the caller sent a list and wants lists back, even for one message. */
  | {
      readonly op: 'enqueue';
      readonly queue: string;
      /**
       * `bytes`: the body's JSON size, set by the node that validated the request (validation
       * builds each message afresh, so a client's own figure is never read).
       */
      readonly messages: readonly (MessageInput & { readonly bytes?: number })[];
      readonly batch: boolean;
      /** Makes a retried request idempotent without a dedup record per message (SDK only). */
      readonly producer?: ProducerStamp;
    }
  | { readonly op: 'receive'; readonly queue: string; readonly max: number; readonly visibilityMs?: number; readonly waitMs: number }
  /** `results`: one JSON value per receipt, in the same order, kept with the acked message. */
  | ({ readonly op: 'ack'; readonly queue: string; readonly results?: readonly unknown[] } & Selector)
  /** `error`: why the consumer gave up, kept in the message's attempt history. */
  | ({ readonly op: 'nack'; readonly queue: string; readonly delayMs?: number; readonly error?: string } & Selector)
  | ({ readonly op: 'extend'; readonly queue: string; readonly visibilityMs: number } & Selector)
  | { readonly op: 'configure'; readonly queue: string; readonly config: QueueConfigInput }
  | { readonly op: 'purge'; readonly queue: string }
  | { readonly op: 'delete'; readonly queue: string }
  /** A paused queue takes enqueues and delivers nothing (receives and subscriptions wait) until resumed. */
  | { readonly op: 'pause' | 'resume'; readonly queue: string }
  /**
   * Moves ready messages of `queue` (a dead-letter queue) to `to`, or each to the queue it died in,
   * up to `max`, at most `ratePerSec` a second, in batches that each move atomically (REDRIVE_LIMITS).
   */
  | { readonly op: 'redrive'; readonly queue: string; readonly to?: string; readonly max: number; readonly ratePerSec?: number }
  /** Makes delayed messages (a delay, a retry backoff) ready now. Needs cluster version 2. */
  | { readonly op: 'promote'; readonly queue: string; readonly ids: readonly string[] };

export const REDRIVE_LIMITS = {
  /** Messages one log entry moves: a batch is in one queue or the other, never both, never neither. */
  batchMax: 1000,
  /** Messages one request may ask for, and what it asks for by default: all there are. */
  maxMax: 10_000_000,
  ratePerSecMax: 1_000_000,
} as const;

/** Reads: linearizable through ReadIndex unless `stale`, answered by the node the client asked. */
export type ReadRequest =
  | { readonly op: 'getQueue'; readonly queue: string; readonly stale: boolean }
  | { readonly op: 'listQueues'; readonly stale: boolean }
  | { readonly op: 'getMessage'; readonly queue: string; readonly id: string; readonly stale: boolean }
  /** `after`: the `next` of the previous page. */
  | { readonly op: 'peek'; readonly queue: string; readonly state: PeekState; readonly limit: number; readonly after?: string; readonly stale: boolean }
  | { readonly op: 'cluster'; readonly stale: boolean };

/** What a peek may ask for: a live state, `waiting` (ready or delayed: not yet delivered), or a remembered one. */
export const PEEK_STATES = ['ready', 'delayed', 'inflight', 'waiting', 'acked', 'dead'] as const;
export type PeekState = (typeof PEEK_STATES)[number];

export const PEEK_LIMITS = {
  /** Messages one peek answers at most, and by default. */
  limitMax: 1000,
  limitDefault: 50,
} as const;

export type ClientRequest = WriteRequest | ReadRequest;

/** Every code an error may carry, on the wire and in the HTTP contract; a peer's error is checked against it. */
export const ERROR_CODE_LIST = [
  'BAD_REQUEST',
  'INVALID_QUEUE_NAME',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOO_LARGE',
  'QUEUE_FULL',
  'TOO_MANY_QUEUES',
  'TOO_MANY_CONNECTIONS',
  'NO_LEADER',
  'UNAVAILABLE',
  'OVERLOADED',
  'TIMEOUT',
  'SHUTTING_DOWN',
  'INTERNAL',
  /** A command that needs a cluster version the cluster has not reached: a member still runs an older release. */
  'FEATURE_NOT_ENABLED',
] as const;

export type ErrorCode = (typeof ERROR_CODE_LIST)[number];

export const ERROR_CODES: ReadonlySet<string> = new Set(ERROR_CODE_LIST);

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}

/** Codes after which the same request may be sent again (with the same dedupId for an enqueue). */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(['NO_LEADER', 'UNAVAILABLE', 'OVERLOADED', 'TIMEOUT', 'SHUTTING_DOWN']);

/**
 * Push subscriptions, offered over the WebSocket protocol only: the node that holds the connection
 * leases messages on the subscriber's behalf and pushes them as its credit allows.
 */
export type SubscriptionRequest =
  | { readonly op: 'subscribe'; readonly queue: string; readonly prefetch: number; readonly visibilityMs?: number }
  | { readonly op: 'unsubscribe'; readonly subscription: number };

/** Every operation a WebSocket request frame may carry. */
export type SocketRequest = ClientRequest | SubscriptionRequest;

/** A WebSocket request frame: an operation plus the caller's correlation id. */
export type ClientFrame = SocketRequest & { readonly id: number };

export type ReplyFrame =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ErrorBody };

/*
 * What each operation answers when it succeeds: the `result` of its reply frame, and, unless noted,
 * the HTTP API's response body. Fields are only ever added, never renamed or dropped (docs/http-api.md).
 */

/** `enqueue` of one message (`batch: false`): where it went. A repeated dedupId answers the first. */
export interface EnqueueResult {
  readonly id: string;
  readonly seq: number;
}

/** `enqueue` with `batch: true`: one id and seq per message, in the order sent. */
export interface EnqueueBatchResult {
  readonly ids: string[];
  readonly seqs: number[];
}

/** `receive`: the messages leased, in delivery order; none when the wait ran out. */
export interface ReceiveResult {
  readonly messages: DeliveredMessage[];
}

/**
 * Why one target of an ack, nack or extend was not settled: `NOT_FOUND` (no such message, or no
 * such queue), `LEASE_EXPIRED` (a receipt whose lease is over), `NOT_INFLIGHT` (a nack or extend by
 * id of a message nobody holds), `NOT_DELAYED` (a promote of a message that is not delayed). The
 * request itself still succeeds.
 */
export type RejectionCode = 'NOT_FOUND' | 'LEASE_EXPIRED' | 'NOT_INFLIGHT' | 'NOT_DELAYED';

export interface SettleRejection {
  readonly id: string;
  readonly code: RejectionCode;
}

export interface AckResult {
  readonly acked: number;
  readonly rejected: SettleRejection[];
}

export interface NackResult {
  readonly nacked: number;
  readonly rejected: SettleRejection[];
}

export interface ExtendResult {
  readonly extended: number;
  readonly rejected: SettleRejection[];
}

/** `promote`: how many delayed messages became ready; the others are rejected with NOT_FOUND or NOT_DELAYED. */
export interface PromoteResult {
  readonly promoted: number;
  readonly rejected: SettleRejection[];
}

/** A queue's settings with every default filled in: what it runs with (`QueueConfigInput`, complete). */
export interface EffectiveQueueConfig {
  readonly visibilityMs: number;
  /** 0 = unlimited. */
  readonly maxDeliveries: number;
  readonly deadLetterQueue: string;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly dedupWindowMs: number;
  readonly maxLength: number;
  readonly maxBytes: number;
  /** 0 = messages never expire. */
  readonly messageTtlMs: number;
  readonly retentionMs: number;
}

/**
 * `configure` over the WebSocket protocol. `created`: the queue did not exist before. (HTTP's
 * `PUT /queues/:q` answers the same fields with the config's fields also at the top level.)
 */
export interface ConfigureResult {
  readonly name: string;
  readonly created: boolean;
  readonly config: EffectiveQueueConfig;
}

/** `purge`: how many messages were dropped. */
export interface PurgeResult {
  readonly purged: number;
}

/** `delete`: whether the queue existed (deleting a missing queue succeeds too). */
export interface DeleteResult {
  readonly deleted: boolean;
}

/** `getQueue`, and each queue of `listQueues`. `dead`: messages moved to the dead-letter queue. */
export interface QueueStatsResult {
  readonly name: string;
  readonly ready: number;
  readonly inflight: number;
  readonly delayed: number;
  readonly dead: number;
  readonly enqueued: number;
  readonly acked: number;
  /** Bytes of message bodies the queue holds (their JSON size). */
  readonly bytes: number;
  /** Delivers nothing while true (`pause`); enqueues go on. */
  readonly paused: boolean;
  /** Deliveries nacked, leases that ran out, messages whose time to live ran out: counted since the cluster reached version 2. */
  readonly nacked: number;
  readonly leaseExpired: number;
  readonly expired: number;
  readonly config: EffectiveQueueConfig;
}

/** `listQueues`: the queues the caller's token may read. */
export interface ListQueuesResult {
  readonly queues: QueueStatsResult[];
}

/** The fields of a message status in every state; the body is never part of it. */
interface MessageStatusBase {
  readonly id: string;
  readonly seq: number;
  readonly attempt: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly history: readonly AttemptRecord[];
  /** Only when the message has a TTL. */
  readonly expiresAt?: number;
  /** Only on a message that is, or was, in a dead-letter queue. */
  readonly deadLetter?: DeadLetterOrigin;
}

/** `getMessage`: a live message in its state, or an acked or dead one still remembered (`retentionMs`). */
export type MessageStatusResult =
  | (MessageStatusBase & { readonly state: 'ready' })
  | (MessageStatusBase & { readonly state: 'delayed'; readonly availableAt: number })
  | (MessageStatusBase & { readonly state: 'inflight'; readonly leaseDeadline: number; readonly receipt: string; readonly deliveredAt: number })
  /** `result` only when the ack carried one. */
  | (MessageStatusBase & { readonly state: 'acked'; readonly ackedAt: number; readonly result?: unknown })
  | (MessageStatusBase & {
      readonly state: 'dead';
      readonly deadAt: number;
      readonly deadReason: DeadLetterOrigin['reason'];
      /** Where the message went, and its id there. */
      readonly deadLetterQueue: string;
      readonly deadLetterId: string;
    });

/**
 * `redrive`: what moved, and the ready messages left in the source. A request ends early (a redrive
 * of many, or a slow rate) after about half the node's request timeout: ask again while `remaining`
 * is above 0 and `moved` is too. Every batch that moved is done for good: a retry never moves it twice.
 */
export interface RedriveResult {
  readonly moved: number;
  readonly remaining: number;
}

/** `pause` and `resume`: whether the queue is paused now. */
export interface PauseResult {
  readonly paused: boolean;
}

/** One message as a peek shows it. Acked and dead ones are remembered without their body. */
export interface PeekedMessage {
  readonly id: string;
  readonly seq: number;
  readonly state: 'ready' | 'delayed' | 'inflight' | 'acked' | 'dead';
  readonly priority: number;
  readonly attempt: number;
  readonly enqueuedAt: number;
  readonly body?: unknown;
  readonly availableAt?: number;
  readonly leaseDeadline?: number;
  readonly deadLetter?: DeadLetterOrigin;
}

/** `peek`: a page of a queue's messages in one state, in enqueue order, read without leasing anything. */
export interface PeekResult {
  readonly messages: readonly PeekedMessage[];
  /** The id to pass as `after` for the next page; absent on the last. */
  readonly next?: string;
}

/** `cluster`: the answering node's Raft view and its gossip view of every member, side by side. */
export interface ClusterResult {
  readonly self: {
    readonly id: string;
    readonly address: string;
    readonly role: 'leader' | 'follower' | 'candidate' | 'learner';
    readonly term: number;
    readonly commitIndex: number;
    readonly appliedIndex: number;
    /** This node lost acknowledged data on disk and is being repaired: it does not vote meanwhile. */
    readonly recovering: boolean;
    /** The founders this node announces to its peers (a cluster's identity), null while it knows none; absent from older releases. */
    readonly founders?: readonly string[] | null;
  };
  /** `address` is null while the answering node does not know where the leader is. */
  readonly leader: { readonly id: string; readonly address: string | null } | null;
  readonly members: readonly {
    readonly id: string;
    readonly address: string | null;
    readonly state: 'alive' | 'suspect' | 'dead' | 'left';
    /** False for a member of the configuration the answering node's gossip has no word of. */
    readonly inGossip: boolean;
    readonly voter: boolean;
    /** Voter, learner, or not in the Raft configuration (a gossip member not yet added). */
    readonly raft: 'voter' | 'learner' | null;
    readonly connected: boolean;
    /** Only when the answering node is the leader: the member's last log index known to match. */
    readonly matchIndex?: number;
    /**
     * What the member's release supports, as it said at its last hello to the answering node (for
     * the answering node itself, its own); absent for a release before the version gate (cluster
     * version 1) and for a member not heard from.
     */
    readonly release?: ReleaseInfo;
  }[];
  /** The cluster version the answering node has applied (see docs/operations.md, Upgrades). */
  readonly clusterVersion: number;
}

/** A release's package version and the highest cluster version and peer protocol version it supports. */
export interface ReleaseInfo {
  readonly version: string;
  readonly clusterVersionMax: number;
  readonly protocolMax: number;
}

/** `subscribe` (WebSocket only): the subscription's number on this connection. */
export interface SubscribeResult {
  readonly subscription: number;
}

/** `unsubscribe` (WebSocket only). */
export interface UnsubscribeResult {
  readonly unsubscribed: true;
}

/** `auth` (WebSocket only, `{ op: 'auth', token }`): the name the node knows the token by. */
export interface AuthResult {
  readonly name: string;
}

/**
 * Every operation's result, by op: one vocabulary for nodes that answer and clients that read.
 * `enqueue` answers `EnqueueResult` or `EnqueueBatchResult` as its `batch` flag says (`ResultFor`).
 */
export interface OperationResults {
  enqueue: EnqueueResult | EnqueueBatchResult;
  receive: ReceiveResult;
  ack: AckResult;
  nack: NackResult;
  extend: ExtendResult;
  configure: ConfigureResult;
  purge: PurgeResult;
  delete: DeleteResult;
  getQueue: QueueStatsResult;
  listQueues: ListQueuesResult;
  getMessage: MessageStatusResult;
  peek: PeekResult;
  pause: PauseResult;
  resume: PauseResult;
  redrive: RedriveResult;
  promote: PromoteResult;
  cluster: ClusterResult;
  subscribe: SubscribeResult;
  unsubscribe: UnsubscribeResult;
  auth: AuthResult;
}

/** Every operation a client may ask for (`auth` included, which is not a `SocketRequest`). */
export type ClientOperation = keyof OperationResults;

export type ResultOf<Op extends ClientOperation> = OperationResults[Op];

/** The result of one request: `ResultOf` its op, with an enqueue's single or batch form told by `batch`. */
export type ResultFor<Request extends { readonly op: ClientOperation }> = Request extends { readonly op: 'enqueue'; readonly batch: true }
  ? EnqueueBatchResult
  : Request extends { readonly op: 'enqueue'; readonly batch: false }
    ? EnqueueResult
    : OperationResults[Request['op']];

/** Unsolicited frames a node sends on a subscriber's connection; they carry no request id. */
export type PushFrame =
  /** `queue` lets a client give back deliveries of a subscription it no longer knows. */
  | { readonly push: 'deliver'; readonly subscription: number; readonly queue: string; readonly messages: readonly DeliveredMessage[] }
  /** The node ended the subscription on its own (it is stopping, or the queue refuses receives). */
  | { readonly push: 'closed'; readonly subscription: number; readonly error: ErrorBody };

export const SUBSCRIPTION_LIMITS = {
  /** Deliveries one subscription may have unsettled at once. */
  prefetchMax: 1000,
  /** Subscriptions one connection may hold, including unsubscribed ones still holding leases. */
  perConnectionMax: 64,
} as const;

export const CLIENT_PROTOCOL_VERSION = 1;
export const CLIENT_SOCKET_PATH = '/ws';
export const PEER_SOCKET_PATH = '/peer';
