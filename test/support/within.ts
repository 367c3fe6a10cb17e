/**
 * Resolves what `promise` resolves, or `undefined` once `ms` have passed without it: for waits whose
 * outcome a test asserts on afterwards (a link that should close, a reply that should come).
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
