/**
 * Guards an invariant. A failed assertion is a programmer error, never an operating condition:
 * it throws, and the process is expected to crash and be restarted rather than carry on.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Marks a switch as exhaustive: the compiler rejects a missing case, the runtime a bad value. */
export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
