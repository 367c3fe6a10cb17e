import type { Logger } from 'pino';
import { assert, RETRYABLE_CODES, SUBSCRIPTION_LIMITS, type WriteRequest } from '../../shared/index.ts';
import { toErrorBody } from '../requests/index.ts';
import { retryDelayMs, sleep } from './retry-delay.ts';

/** Attempts at giving leases back, across elections, before leaving them to expire. */
const RELEASE_ATTEMPTS_MAX = 8;

/**
 * Gives leases back to their queue at once (a nack with no delay) for a subscriber that can no
 * longer work on them, so that other consumers get them long before their visibility ends. The
 * receipts fence the nack: a lease that already changed hands is left alone. Leases it fails to
 * give back return when they expire, as any lease does.
 */
export async function releaseLeases(
  write: (request: WriteRequest) => Promise<unknown>,
  queue: string,
  receipts: readonly string[],
  log: Logger,
): Promise<void> {
  if (receipts.length === 0) return;
  assert(receipts.length <= SUBSCRIPTION_LIMITS.prefetchMax, 'one release never exceeds one subscription prefetch');
  for (let attempt = 1; attempt <= RELEASE_ATTEMPTS_MAX; attempt++) {
    try {
      await write({ op: 'nack', queue, ids: [], receipts, delayMs: 0 });
      return;
    } catch (error) {
      const body = toErrorBody(error);
      if (!RETRYABLE_CODES.has(body.code)) break;
      await sleep(retryDelayMs(attempt, body.retryAfterMs));
    }
  }
  log.warn({ queue, leases: receipts.length }, 'could not give leases back; they return when they expire');
}
