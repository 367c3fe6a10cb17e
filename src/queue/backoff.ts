import { assert } from '../shared/index.ts';

/** Exponential backoff by attempt, capped: a failing message waits longer each time. */
export function exponentialBackoffMs(backoff: { readonly baseMs: number; readonly maxMs: number }, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
}

/**
 * The wait before a nacked message (nacked without `delayMs`) is offered again: "equal jitter",
 * somewhere in [backoff/2, backoff]. Full jitter (0..backoff) could hand a failing message straight
 * back, which defeats backoff; no jitter at all brings every message of one failing batch back at
 * the same instant. The spread must be the same on every replica, so it comes from the log entry:
 * the leader stamps each nack with a random `seed`, mixed here with the message id so that the
 * messages of one nack spread apart too.
 */
export function nackBackoffMs(backoff: { readonly baseMs: number; readonly maxMs: number }, attempt: number, seed: number, id: string): number {
  const full = exponentialBackoffMs(backoff, attempt);
  const certain = Math.ceil(full / 2);
  const delay = certain + (jitterHash(seed, id) % (full - certain + 1));
  assert(delay >= full / 2 && delay <= full, 'jittered backoff outside [backoff/2, backoff]');
  return delay;
}

/** FNV-1a over the id's characters, started from the seed, then murmur3's finalizer to spread the bits. */
export function jitterHash(seed: number, id: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}
