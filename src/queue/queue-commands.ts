import type { DeliveredMessage, ProducerStamp } from '../shared/index.ts';
import type { QueueConfig } from './queue-config.ts';

/**
 * The operations the log carries. Each is stamped by the leader with `ts`, its wall clock when it
 * proposed: the state machine's only clock, so every replica decides leases and delays alike.
 */
export interface NewMessage {
  readonly body: unknown;
  readonly priority: number;
  readonly delayMs: number;
  readonly dedupId?: string;
  /** Overrides the queue's `messageTtlMs` for this message; 0 = never expires. */
  readonly ttlMs?: number;
  /** Encoded size, counted against `maxBytes`. */
  readonly bytes: number;
}

export interface MessageSelector {
  readonly ids: readonly string[];
  readonly receipts: readonly string[];
}

/**
 * On a command that may create its queue: the settings a queue it creates starts with, over the
 * machine's own defaults. The leader writes them (`NEW_QUEUE_SETTINGS`) when it sees no such queue,
 * so that a default changed by a later release is in the log: an entry written before replays as it
 * applied then, on every replica, whatever release replays it.
 */
export interface CreatesQueue {
  readonly createWith?: Partial<QueueConfig>;
}

export type QueueCommand =
  | ({
      readonly type: 'enqueue';
      readonly ts: number;
      readonly queue: string;
      readonly messages: readonly NewMessage[];
      readonly producer?: ProducerStamp;
    } & CreatesQueue)
  | {
      readonly type: 'receive';
      readonly ts: number;
      readonly queue: string;
      readonly max: number;
      readonly visibilityMs: number | undefined;
    }
  /** `results`: aligned with `receipts`, each kept with its acked message for the status route. */
  | ({ readonly type: 'ack'; readonly ts: number; readonly queue: string; readonly results?: readonly unknown[] } & MessageSelector)
  /**
   * `seed`: a random number the leader stamps on the entry, the source of the backoff jitter (the
   * machine may not draw random numbers of its own). Entries written before it existed replay with 0.
   */
  | ({
      readonly type: 'nack';
      readonly ts: number;
      readonly queue: string;
      readonly delayMs: number | undefined;
      readonly error?: string;
      readonly seed: number;
    } & MessageSelector)
  | ({ readonly type: 'extend'; readonly ts: number; readonly queue: string; readonly visibilityMs: number } & MessageSelector)
  | ({ readonly type: 'configure'; readonly ts: number; readonly queue: string; readonly config: Partial<QueueConfig> } & CreatesQueue)
  | { readonly type: 'purge'; readonly ts: number; readonly queue: string }
  | { readonly type: 'delete'; readonly ts: number; readonly queue: string }
  /**
   * Moves up to `max` ready messages of `queue` (a dead-letter queue, typically), in enqueue order,
   * to `to`, or each to the queue it died in: as new messages there, in one step, so a message is
   * in exactly one of the two queues whatever happens to the leader between two redrives.
   */
  | ({ readonly type: 'redrive'; readonly ts: number; readonly queue: string; readonly to?: string; readonly max: number } & CreatesQueue)
  /** Pauses (`paused: true`) or resumes a queue: a paused queue takes enqueues and delivers nothing. */
  | { readonly type: 'pause'; readonly ts: number; readonly queue: string; readonly paused: boolean }
  /** Makes delayed messages ready now (a message waiting out a delay or a retry backoff). Cluster version 2. */
  | { readonly type: 'promote'; readonly ts: number; readonly queue: string; readonly ids: readonly string[] }
  /** Proposed by the leader when a lease or delay falls due, so that expiry happens in the log. */
  | { readonly type: 'tick'; readonly ts: number }
  /**
   * Raises the cluster version (never lowers it): proposed by the leader once every member supports
   * `version` (see `cluster-version.ts`). Cluster version 2.
   */
  | { readonly type: 'clusterVersion'; readonly ts: number; readonly version: number };

export type QueueCommandType = QueueCommand['type'];

export type SettleCommand = Extract<QueueCommand, { type: 'ack' | 'nack' | 'extend' }>;

export type { DeliveredMessage } from '../shared/index.ts';

export interface Rejection {
  readonly id: string;
  readonly code: 'NOT_FOUND' | 'LEASE_EXPIRED' | 'NOT_INFLIGHT' | 'NOT_DELAYED';
}

export interface QueueStats {
  readonly name: string;
  readonly ready: number;
  readonly inflight: number;
  readonly delayed: number;
  readonly dead: number;
  readonly enqueued: number;
  readonly acked: number;
  readonly bytes: number;
  /** Delivers nothing while true (see the `pause` command); enqueues, delays and lease expiry go on. */
  readonly paused: boolean;
  /** Nacked deliveries, leases that ran out, and messages whose time to live ran out: counted since cluster version 2. */
  readonly nacked: number;
  readonly leaseExpired: number;
  readonly expired: number;
  readonly config: QueueConfig;
}

export type QueueResult =
  | { readonly type: 'enqueued'; readonly ids: string[]; readonly seqs: number[] }
  | { readonly type: 'received'; readonly messages: DeliveredMessage[] }
  | { readonly type: 'settled'; readonly count: number; readonly rejected: Rejection[] }
  | { readonly type: 'configured'; readonly created: boolean; readonly config: QueueConfig }
  | { readonly type: 'purged'; readonly purged: number }
  | { readonly type: 'deleted'; readonly existed: boolean }
  | { readonly type: 'paused'; readonly paused: boolean }
  /** `remaining`: ready messages still in the source queue. */
  | { readonly type: 'redriven'; readonly moved: number; readonly remaining: number }
  | { readonly type: 'ticked' }
  | { readonly type: 'promoted'; readonly count: number; readonly rejected: Rejection[] }
  | { readonly type: 'clusterVersion'; readonly version: number }
  | {
      readonly type: 'error';
      readonly code: 'QUEUE_FULL' | 'NOT_FOUND' | 'TOO_MANY_QUEUES' | 'OVERLOADED' | 'BAD_REQUEST' | 'FEATURE_NOT_ENABLED';
      readonly message: string;
    };
