import { assert, RequestError } from '../../shared/index.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

interface Pending<T> {
  readonly term: number;
  readonly resolve: (value: T) => void;
  readonly reject: (error: RequestError) => void;
  timer: NodeJS.Timeout;
  /** `performance.now()` at which the caller hears TIMEOUT. */
  deadline: number;
}

/**
 * Proposals waiting for their entry to be applied, by log index. An entry applied at that index
 * with another term means ours was overwritten: it will never commit, so the caller may retry.
 * One that neither commits nor is overwritten in time has an unknown outcome (TIMEOUT).
 */
export class PendingProposals<T> {
  private pending = new Map<number, Pending<T>>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.pending.size;
  }

  wait(index: number, term: number): Promise<T> {
    assert(index > 0 && term > 0, 'a proposal has its index and term in the log');
    // A proposal still waiting at this index was cut from the log this one is appended to.
    const earlier = this.pending.get(index);
    if (earlier !== undefined) this.end(index, earlier).reject(notApplied());
    return new Promise<T>((resolve, reject) => {
      const timer = this.expireAfter(
        index,
        this.timeoutMs,
        () => new RequestError('TIMEOUT', `not committed within ${this.timeoutMs} ms; the outcome is unknown`),
      );
      this.pending.set(index, { term, resolve, reject, timer, deadline: performance.now() + this.timeoutMs });
    });
  }

  /**
   * This node stopped being leader. Its proposals may still commit under the next leader, and then
   * they settle here when applied; but a leader cut off from the rest learns of no next leader, and
   * its callers would wait out the whole timeout. So each gets at most `graceMs` more, then hears
   * that the outcome is unknown (UNAVAILABLE, retryable: a retry with the same dedupId is safe).
   */
  expireWithin(graceMs: number): void {
    const deadline = performance.now() + graceMs;
    const lost = () =>
      new RequestError(
        'UNAVAILABLE',
        'this node stopped being leader before the request committed, and no new leader has settled it; the outcome is unknown',
        RETRY_AFTER_MS.leaderChanged,
      );
    for (const [index, pending] of this.pending) {
      if (pending.deadline <= deadline) continue;
      clearTimeout(pending.timer);
      pending.timer = this.expireAfter(index, graceMs, lost);
      pending.deadline = deadline;
    }
  }

  /** Errors are made when due: one with its stack for every proposal would cost the hot path. */
  private expireAfter(index: number, ms: number, error: () => RequestError): NodeJS.Timeout {
    const timer: NodeJS.Timeout = setTimeout(() => {
      const pending = this.pending.get(index);
      if (pending?.timer !== timer) return;
      this.pending.delete(index);
      pending.reject(error());
    }, ms);
    timer.unref();
    return timer;
  }

  /** The entry at `index` was applied: its proposer hears the result, or that another term's entry took its place. */
  onApplied(index: number, term: number, result: T): void {
    const pending = this.pending.get(index);
    if (pending === undefined) return;
    this.end(index, pending);
    if (pending.term === term) pending.resolve(result);
    else pending.reject(notApplied());
  }

  private end(index: number, pending: Pending<T>): Pending<T> {
    this.pending.delete(index);
    clearTimeout(pending.timer);
    return pending;
  }

  rejectAll(error: RequestError): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}

function notApplied(): RequestError {
  return new RequestError('UNAVAILABLE', 'leadership changed before the request committed; it was not applied');
}
