import type { Message, NodeId } from '../../src/raft/index.ts';

/**
 * Messages in flight between simulated nodes. Delivery order is chosen by the schedule: the oldest
 * message (a FIFO link) or any of them (reordering). Cuts are directed, so one-way partitions exist.
 */
export class SimNetwork {
  private inFlight: Message[] = [];
  private cuts = new Set<string>();
  private sequence = 0;
  delivered = 0;
  dropped = 0;
  duplicated = 0;

  get size(): number {
    return this.inFlight.length;
  }

  send(messages: readonly Message[]): void {
    for (const message of messages) this.inFlight.push(message);
  }

  /** Removes and returns the message at `pick` (modulo the count), or undefined if none or cut. */
  take(pick: number): Message | undefined {
    if (this.inFlight.length === 0) return undefined;
    const [message] = this.inFlight.splice(pick % this.inFlight.length, 1);
    if (this.isCut(message!.from, message!.to)) {
      this.dropped++;
      return undefined;
    }
    this.delivered++;
    return message;
  }

  drop(pick: number): void {
    if (this.inFlight.length === 0) return;
    this.inFlight.splice(pick % this.inFlight.length, 1);
    this.dropped++;
  }

  duplicate(pick: number): void {
    if (this.inFlight.length === 0) return;
    this.inFlight.push(this.inFlight[pick % this.inFlight.length]!);
    this.duplicated++;
  }

  /** Forgets messages to a node that crashed: its sockets are gone. */
  dropTo(node: NodeId): void {
    const before = this.inFlight.length;
    this.inFlight = this.inFlight.filter((message) => message.to !== node);
    this.dropped += before - this.inFlight.length;
  }

  /** Power went before the node's latest messages left its buffers. */
  dropFrom(node: NodeId): void {
    this.inFlight = this.inFlight.filter((message) => message.from !== node);
  }

  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  nextSequence(): number {
    return ++this.sequence;
  }
}
