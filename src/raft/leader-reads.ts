import { hasQuorum } from './quorum.ts';
import { type ReadIndexRequest, ReadOnlyQueue } from './read-only.ts';
import type { NodeId, ReadRefusal } from './types.ts';

export type ReadOutcome = { readonly index: number } | { readonly refusal: ReadRefusal };

/** What the leader's read path needs from the core. */
export interface LeaderReadsOptions {
  readonly id: NodeId;
  readonly pendingReadsMax: number;
  committedInCurrentTerm(): boolean;
  commitIndex(): number;
  voters(): readonly NodeId[];
  broadcastHeartbeat(readContext: string): void;
  answer(request: ReadIndexRequest, outcome: ReadOutcome): void;
}

/**
 * ReadIndex on the leader (Raft §6.4): a read waits until the leader has committed an entry of its
 * term, records the commit index, and is answered once a quorum confirms the leader still leads.
 */
export class LeaderReads {
  private readonly confirming = new ReadOnlyQueue();
  /** Reads that arrived before this leader committed an entry of its term. */
  private awaitingTermCommit: ReadIndexRequest[] = [];

  constructor(private readonly host: LeaderReadsOptions) {}

  request(request: ReadIndexRequest): void {
    const host = this.host;
    // Until its no-op commits, a new leader may not know the latest commit index.
    if (!host.committedInCurrentTerm()) {
      if (this.awaitingTermCommit.length >= host.pendingReadsMax) host.answer(request, { refusal: 'READ_DROPPED' });
      else this.awaitingTermCommit.push(request);
      return;
    }
    const voters = host.voters();
    if (voters.length === 1 && voters[0] === host.id) {
      host.answer(request, { index: host.commitIndex() });
      return;
    }
    if (this.confirming.size >= host.pendingReadsMax || this.confirming.has(request.context)) {
      host.answer(request, { refusal: 'READ_DROPPED' });
      return;
    }
    this.confirming.add(request, host.commitIndex(), host.id);
    host.broadcastHeartbeat(request.context);
  }

  acknowledge(context: string, from: NodeId): void {
    const acks = this.confirming.acknowledge(context, from);
    if (acks === undefined || !hasQuorum(this.host.voters(), (id) => acks.has(id))) return;
    for (const { request, index } of this.confirming.releaseThrough(context)) this.host.answer(request, { index });
  }

  /** The leader's commit moved: reads waiting for its first commit may proceed. */
  onCommitAdvanced(): void {
    const waiting = this.awaitingTermCommit;
    this.awaitingTermCommit = [];
    for (const request of waiting) this.request(request);
  }

  /** Leadership is lost: every pending read is refused so its asker can retry elsewhere. */
  failAll(): void {
    const requests = [...this.confirming.clear(), ...this.awaitingTermCommit];
    this.awaitingTermCommit = [];
    for (const request of requests) this.host.answer(request, { refusal: 'NOT_LEADER' });
  }
}
