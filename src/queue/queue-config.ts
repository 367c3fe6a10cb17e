/** Per-queue settings, as `PUT /queues/:q` takes them (docs/http-api.md). */
export interface QueueConfig {
  readonly visibilityMs: number;
  /** 0 = unlimited. */
  readonly maxDeliveries: number;
  readonly deadLetterQueue: string;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly dedupWindowMs: number;
  readonly maxLength: number;
  readonly maxBytes: number;
  /** 0 = messages never expire. Applies to messages enqueued after it is set. */
  readonly messageTtlMs: number;
  /** How long an acked or dead message stays visible (without its body) to the status route. */
  readonly retentionMs: number;
}

/** Hard bounds on what any request or configuration may ask for. */
export const QUEUE_LIMITS = {
  queueNameLengthMax: 128,
  messagesPerBatchMax: 1000,
  receiveMax: 1000,
  receiveWaitMsMax: 20_000,
  visibilityMsMax: 12 * 60 * 60 * 1000,
  delayMsMax: 7 * 24 * 60 * 60 * 1000,
  ttlMsMax: 14 * 24 * 60 * 60 * 1000,
  dedupWindowMsMax: 24 * 60 * 60 * 1000,
  dedupIdLengthMax: 256,
  priorityMax: 9,
  maxLengthMax: 10_000_000,
  maxBytesMax: 4 * 1024 * 1024 * 1024,
  idsPerRequestMax: 1000,
  queuesMax: 10_000,
  retentionMsMax: 24 * 60 * 60 * 1000,
  /** One ack result, as JSON. */
  resultBytesMax: 64 * 1024,
  /** One nack error, in characters. */
  errorLengthMax: 1024,
  /** Attempts a message remembers: the last ones, older ones are dropped. */
  attemptHistoryMax: 10,
} as const;

/**
 * Bounds on the acked and dead messages a queue remembers, whatever `retentionMs` says: past
 * either one the record due to be forgotten soonest goes first. The same on every replica; tests
 * pass smaller ones to reach them.
 */
export interface RetentionLimits {
  readonly recordsMax: number;
  /** Results and error texts held by the records, counted as JSON characters. */
  readonly bytesMax: number;
}

/**
 * Every replica holds the records in memory and every snapshot carries them: at thousands of acks a
 * second, 100,000 records tripled the snapshot of a 10,000-message backlog. 10,000 keep the status
 * of the last few seconds of a busy queue, or minutes of a quiet one.
 */
export const DEFAULT_RETENTION_LIMITS: RetentionLimits = { recordsMax: 10_000, bytesMax: 8 * 1024 * 1024 };

/**
 * Queue names: 1 to 128 of these characters, and a default dead-letter queue's name: any such
 * name with `.dlq` after it (up to 132). Without that, the dead letters of a queue named with 125
 * to 128 characters went to a queue no request could name, read or delete.
 */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,128}(?:\.dlq)?$/;

/**
 * What a queue created by a client's request starts with, over `defaultQueueConfig`: a poison
 * message reaches the dead-letter queue after 20 deliveries (RabbitMQ's default for quorum queues)
 * instead of coming back for ever. Dead-letter queues the machine makes keep 0 (unlimited): their
 * own dead letters would need yet another queue. Written into the log by the leader (`createWith`).
 */
export const NEW_QUEUE_SETTINGS: Partial<QueueConfig> = { maxDeliveries: 20 };

export function defaultQueueConfig(name: string): QueueConfig {
  return {
    visibilityMs: 30_000,
    maxDeliveries: 0,
    deadLetterQueue: `${name}.dlq`,
    backoff: { baseMs: 1000, maxMs: 60_000 },
    dedupWindowMs: 300_000,
    maxLength: 1_000_000,
    maxBytes: 512 * 1024 * 1024,
    messageTtlMs: 0,
    retentionMs: 300_000,
  };
}
