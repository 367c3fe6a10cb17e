/** A wait that does not keep the process alive by itself: the client's sockets do that. */
export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs).unref());
}

/** Capped exponential backoff for the SDK's background retries (resubscribing). */
export function backoffMs(failures: number, delayMsMax: number): number {
  return Math.min(delayMsMax, 100 * 2 ** Math.min(Math.max(failures, 0), 6));
}

/** `promise`'s value, or undefined if it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs))));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
