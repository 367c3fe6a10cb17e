/**
 * When a message enqueued at `now` expires: after its own `ttlMs` when it has one (0 = never),
 * else after the queue's `messageTtlMs` as set when it was enqueued. 0 = never.
 */
export function expiryOf(now: number, ttlMs: number | undefined, queueTtlMs: number): number {
  const ttl = ttlMs ?? queueTtlMs;
  return ttl > 0 ? now + ttl : 0;
}

/** Expired: a waiting message must leave for the dead-letter queue, a leased one once its lease ends. */
export function hasExpired(message: { readonly expiresAt: number }, now: number): boolean {
  return message.expiresAt > 0 && message.expiresAt <= now;
}
