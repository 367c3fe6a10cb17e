import type { NodeId } from './types.ts';

/** A linearizable read waiting to be confirmed; `from` is the node whose client asked. */
export interface ReadIndexRequest {
  readonly context: string;
  readonly from: NodeId;
}

interface PendingRead {
  readonly request: ReadIndexRequest;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex rounds on the leader (Raft §6.4): a read records the commit index, and is released once
 * a quorum of voters answers a heartbeat sent after it, proving this node was still the leader.
 */
export class ReadOnlyQueue {
  private pending = new Map<string, PendingRead>();

  get size(): number {
    return this.pending.size;
  }

  has(context: string): boolean {
    return this.pending.has(context);
  }

  add(request: ReadIndexRequest, index: number, self: NodeId): void {
    this.pending.set(request.context, { request, index, acks: new Set([self]) });
  }

  /** Records an acknowledgement; returns the acknowledging set of that round, if it is pending. */
  acknowledge(context: string, from: NodeId): ReadonlySet<NodeId> | undefined {
    const read = this.pending.get(context);
    if (read === undefined) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Removes and returns every read up to and including `context`: a later round confirms earlier ones. */
  releaseThrough(context: string): { request: ReadIndexRequest; index: number }[] {
    const released: { request: ReadIndexRequest; index: number }[] = [];
    for (const [key, read] of this.pending) {
      released.push({ request: read.request, index: read.index });
      this.pending.delete(key);
      if (key === context) break;
    }
    return released;
  }

  clear(): ReadIndexRequest[] {
    const requests = [...this.pending.values()].map((read) => read.request);
    this.pending.clear();
    return requests;
  }
}
