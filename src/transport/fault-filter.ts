import type { NodeId } from '../raft/index.ts';

/**
 * Drops peer traffic by direction, for fault injection. Present only on nodes started with
 * --enable-fault-injection; without it the transport holds no filter at all.
 */
export class FaultFilter {
  private sendBlocked = new Set<NodeId>();
  private receiveBlocked = new Set<NodeId>();

  blockSendTo(peer: NodeId): void {
    this.sendBlocked.add(peer);
  }

  blockReceiveFrom(peer: NodeId): void {
    this.receiveBlocked.add(peer);
  }

  heal(): void {
    this.sendBlocked.clear();
    this.receiveBlocked.clear();
  }

  dropsSendTo(peer: NodeId): boolean {
    return this.sendBlocked.has(peer);
  }

  dropsReceiveFrom(peer: NodeId): boolean {
    return this.receiveBlocked.has(peer);
  }

  describe(): { sendBlocked: NodeId[]; receiveBlocked: NodeId[] } {
    return { sendBlocked: [...this.sendBlocked], receiveBlocked: [...this.receiveBlocked] };
  }
}
