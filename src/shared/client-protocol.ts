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
  | { readonly op: 'delete'; readonly queue: string };

/** Reads: linearizable through ReadIndex unless `stale`, answered by the node the client asked. */
export type ReadRequest =
  | { readonly op: 'getQueue'; readonly queue: string; readonly stale: boolean }
  | { readonly op: 'listQueues'; readonly stale: boolean }
  | { readonly op: 'getMessage'; readonly queue: string; readonly id: string; readonly stale: boolean }
  | { readonly op: 'cluster'; readonly stale: boolean };

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
