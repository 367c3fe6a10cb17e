import { assert } from '../../shared/index.ts';

interface HeldLease {
  readonly receipt: string;
  /** By this node's clock; never earlier than the leader's own deadline on the same machine. */
  deadline: number;
}

/**
 * The leases one push subscription has delivered and not yet seen settled. Its credit, what it may
 * still deliver, is `capacity − size`. Keyed by message id: a message holds one lease at a time, so
 * a redelivery of the same message replaces an older lease this subscription lost track of.
 */
export class HeldLeases {
  private readonly byId = new Map<string, HeldLease>();
  /** An index of `byId` by receipt, so that settling a batch of receipts costs one lookup each. */
  private readonly idOfReceipt = new Map<string, string>();

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'a subscription holds at least one lease');
  }

  get size(): number {
    return this.byId.size;
  }

  credit(): number {
    assert(this.byId.size <= this.capacity, 'a subscription holds more leases than its prefetch');
    return this.capacity - this.byId.size;
  }

  hold(messages: readonly { readonly id: string; readonly receipt: string }[], deadline: number): void {
    for (const message of messages) {
      this.forget(message.id);
      this.byId.set(message.id, { receipt: message.receipt, deadline });
      this.idOfReceipt.set(message.receipt, message.id);
    }
    assert(this.byId.size <= this.capacity, 'a receive delivered more than the credit it asked for');
  }

  /** An ack or nack answered: the named leases are over, accepted or not. Returns how many it held. */
  settle(receipts: readonly string[], ids: readonly string[]): number {
    const before = this.byId.size;
    for (const receipt of receipts) this.forget(this.idOfReceipt.get(receipt));
    for (const id of ids) this.forget(id);
    return before - this.byId.size;
  }

  /**
   * An extend answered: leases it extended live on until `deadline`; those it rejected are gone.
   * Returns how many leases were released.
   */
  extend(receipts: readonly string[], ids: readonly string[], deadline: number, rejectedIds: ReadonlySet<string>): number {
    const before = this.byId.size;
    const named = [...receipts.map((receipt) => this.idOfReceipt.get(receipt)), ...ids];
    for (const id of named) {
      const lease = id === undefined ? undefined : this.byId.get(id);
      if (id === undefined || lease === undefined) continue;
      if (rejectedIds.has(id)) this.forget(id);
      else lease.deadline = Math.max(lease.deadline, deadline);
    }
    return before - this.byId.size;
  }

  /** Forgets leases whose deadline has passed (the queue has taken them back). Returns how many. */
  expire(now: number): number {
    const before = this.byId.size;
    for (const [id, lease] of this.byId) if (lease.deadline <= now) this.forget(id);
    return before - this.byId.size;
  }

  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const lease of this.byId.values()) if (earliest === undefined || lease.deadline < earliest) earliest = lease.deadline;
    return earliest;
  }

  /** Hands back every receipt held and forgets them all. */
  takeAll(): string[] {
    const receipts = [...this.byId.values()].map((lease) => lease.receipt);
    this.byId.clear();
    this.idOfReceipt.clear();
    return receipts;
  }

  private forget(id: string | undefined): void {
    const lease = id === undefined ? undefined : this.byId.get(id);
    if (id === undefined || lease === undefined) return;
    this.byId.delete(id);
    this.idOfReceipt.delete(lease.receipt);
    assert(this.idOfReceipt.size === this.byId.size, 'the receipt index drifted from the leases');
  }
}
