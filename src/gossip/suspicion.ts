import { assert } from '../shared/index.ts';

/**
 * How long a suspicion lasts after `confirmations` distinct members besides the first accuser have
 * agreed with it (Lifeguard, "local health aware suspicion"). It starts at `maxTicks` so that a lone,
 * possibly mistaken accuser gives the suspect plenty of time to refute, and falls logarithmically to
 * `minTicks` once `confirmationsExpected` members agree: the first confirmations are the most
 * telling, since independent failures to reach a live member are rare.
 */
export function suspicionTimeoutTicks(confirmations: number, confirmationsExpected: number, minTicks: number, maxTicks: number): number {
  assert(Number.isSafeInteger(confirmations) && confirmations >= 0, 'confirmations must be a natural number');
  assert(Number.isSafeInteger(confirmationsExpected) && confirmationsExpected >= 0, 'expected confirmations must be a natural number');
  assert(minTicks >= 1 && minTicks <= maxTicks, 'suspicion bounds out of order');
  // Nobody could confirm, often because our view is still incomplete (a joiner that knows only
  // its seed): a lone accusation then keeps the full benefit of the doubt.
  if (confirmationsExpected === 0) return maxTicks;
  const counted = Math.min(confirmations, confirmationsExpected);
  const fraction = Math.log(counted + 1) / Math.log(confirmationsExpected + 1);
  const timeout = Math.floor(maxTicks - fraction * (maxTicks - minTicks));
  return Math.max(minTicks, Math.min(maxTicks, timeout));
}

/** One suspicion of one member at one incarnation, with the distinct members who made the claim. */
export class Suspicion {
  readonly incarnation: number;
  readonly startedAt: number;
  readonly confirmationsExpected: number;
  private readonly accusers = new Set<string>();

  constructor(accuser: string, incarnation: number, startedAt: number, confirmationsExpected: number) {
    assert(accuser !== '', 'a suspicion needs an accuser');
    assert(confirmationsExpected >= 0, 'expected confirmations must not be negative');
    this.accusers.add(accuser);
    this.incarnation = incarnation;
    this.startedAt = startedAt;
    this.confirmationsExpected = confirmationsExpected;
  }

  /** Records `accuser`; true if it had not accused before (each member counts once). */
  confirm(accuser: string): boolean {
    assert(accuser !== '', 'a confirmation needs an accuser');
    if (this.accusers.has(accuser)) return false;
    this.accusers.add(accuser);
    return true;
  }

  get confirmations(): number {
    return this.accusers.size - 1;
  }

  hasExpired(now: number, minTicks: number, maxTicks: number): boolean {
    assert(now >= this.startedAt, 'suspicion from the future');
    return now - this.startedAt >= suspicionTimeoutTicks(this.confirmations, this.confirmationsExpected, minTicks, maxTicks);
  }
}
