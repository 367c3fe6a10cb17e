import { RequestError } from '../shared/index.ts';

interface Pending<T> {
  readonly term: number;
  readonly resolve: (value: T) => void;
  readonly reject: (error: RequestError) => void;
  readonly timer: NodeJS.Timeout;
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
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(index);
        reject(new RequestError('TIMEOUT', `not committed within ${this.timeoutMs} ms; the outcome is unknown`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(index, { term, resolve, reject, timer });
    });
  }

  settle(index: number, term: number, result: T): void {
    const pending = this.pending.get(index);
    if (pending === undefined) return;
    this.pending.delete(index);
    clearTimeout(pending.timer);
    if (pending.term === term) pending.resolve(result);
    else pending.reject(new RequestError('UNAVAILABLE', 'leadership changed before the request committed; it was not applied'));
  }

  rejectAll(error: RequestError): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
