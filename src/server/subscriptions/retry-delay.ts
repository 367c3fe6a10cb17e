const RETRY_DELAY_MS_MIN = 100;
const RETRY_DELAY_MS_MAX = 3000;

/**
 * How long a node-side loop waits before trying again after its `failures`-th failure in a row:
 * exponential and capped, never shorter than the `retryAfterMs` the failure asked for, and
 * jittered so that many subscriptions on one node do not retry in step after an election.
 */
export function retryDelayMs(failures: number, retryAfterMs: number | undefined): number {
  const exponential = Math.min(RETRY_DELAY_MS_MAX, RETRY_DELAY_MS_MIN * 2 ** Math.min(Math.max(failures - 1, 0), 5));
  const base = Math.max(exponential, Math.min(retryAfterMs ?? 0, RETRY_DELAY_MS_MAX));
  return base * (0.5 + Math.random() / 2);
}

/** A timer that resolves after `delayMs`; it does not keep a stopping process alive. */
export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs).unref());
}
