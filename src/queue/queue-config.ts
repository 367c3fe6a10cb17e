/** Per-queue settings, as `PUT /queues/:q` takes them (HTTP-API.md). */
export interface QueueConfig {
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
} as const;

export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

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
  };
}
