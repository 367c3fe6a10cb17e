import { assert } from '../shared/index.ts';
import type { MemberUpdate } from './types.ts';

/**
 * How many times each claim is piggybacked. Epidemic spread reaches everyone in O(log N) rounds
 * with high probability, so retransmits grow with the log of the cluster size (memberlist's rule).
 */
export function retransmitLimit(multiplier: number, memberCount: number): number {
  assert(Number.isSafeInteger(multiplier) && multiplier >= 1, 'retransmit multiplier must be positive');
  assert(Number.isSafeInteger(memberCount) && memberCount >= 1, 'member count must be positive');
  return multiplier * Math.ceil(Math.log10(memberCount + 1));
}

interface Queued {
  readonly update: MemberUpdate;
  transmits: number;
  /** Enqueue order: among equally transmitted claims the newest goes first. */
  readonly order: number;
}

/**
 * Claims waiting to be piggybacked, at most one per member: a newer claim about a member replaces
 * the older one, which is then never sent again. The size is therefore bounded by the member count.
 */
export class BroadcastQueue {
  private readonly queued = new Map<string, Queued>();
  private enqueued = 0;

  constructor(private readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity >= 1, 'broadcast capacity must be positive');
  }

  get size(): number {
    return this.queued.size;
  }

  has(id: string): boolean {
    return this.queued.has(id);
  }

  enqueue(update: MemberUpdate): void {
    this.queued.delete(update.id);
    this.queued.set(update.id, { update, transmits: 0, order: ++this.enqueued });
    assert(this.queued.size <= this.capacity, 'one queued claim per member exceeds the member bound');
  }

  remove(id: string): void {
    this.queued.delete(id);
  }

  /**
   * Up to `max` claims, fewest-transmitted first, each counted as sent once more; claims that reach
   * `limit` transmissions leave the queue.
   */
  take(max: number, limit: number): MemberUpdate[] {
    assert(Number.isSafeInteger(max) && max >= 0, 'take count must be a natural number');
    assert(Number.isSafeInteger(limit) && limit >= 1, 'retransmit limit must be positive');
    const chosen = [...this.queued.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order).slice(0, max);
    for (const entry of chosen) {
      entry.transmits++;
      // The limit falls when members are forgotten, so a claim may already be past it.
      if (entry.transmits >= limit) this.queued.delete(entry.update.id);
    }
    return chosen.map((entry) => entry.update);
  }
}
