/** Resolves once `condition` holds or `timeoutMs` has passed, checking every 10 ms; never rejects. */
export async function pollUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
