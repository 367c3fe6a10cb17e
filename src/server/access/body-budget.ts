/**
 * The bytes all HTTP request bodies together may hold while they arrive. Each body is also bounded
 * on its own (`REQUEST_LIMITS.requestBytesMax`), but twenty slow clients each half-way through a
 * 15 MiB body hold 300 MiB between them; past this budget a body is refused (503, retry later)
 * instead of growing the node's memory with the number of clients.
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly bytesMax: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.bytesMax) return false;
    this.held += bytes;
    return true;
  }

  giveBack(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
