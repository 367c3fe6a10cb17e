import { randomUUID } from 'node:crypto';
import type { ProducerStamp } from '../shared/index.ts';

/**
 * Numbers this client's enqueue requests for the cluster's idempotent-producer check: a retry of
 * request n carries n again and is answered from the first application. `settledBelow` tells the
 * cluster which answers it may forget: every request numbered below it has finished here.
 */
export class ProducerSequence {
  readonly id = randomUUID();
  private next = 0;
  /** Issued numbers from the oldest unfinished one on; finished ones are dropped from the front. */
  private readonly pending: number[] = [];
  private readonly finished = new Set<number>();

  begin(): number {
    const seq = this.next++;
    this.pending.push(seq);
    return seq;
  }

  /** The request has its final answer (success, definite failure, or given up): never retried. */
  finish(seq: number): void {
    this.finished.add(seq);
    while (this.pending.length > 0 && this.finished.delete(this.pending[0]!)) this.pending.shift();
  }

  stamp(seq: number): ProducerStamp {
    return { id: this.id, seq, settledBelow: this.pending[0] ?? this.next };
  }
}
