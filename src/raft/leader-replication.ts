import { assert } from '../shared/index.ts';
import { members } from './membership.ts';
import { Progress } from './progress.ts';
import type { RaftConfig } from './raft-config.ts';
import { entryBytes, type RaftLog } from './raft-log.ts';
import type { AppendResponseMessage, HeartbeatResponseMessage, Message, NodeId, Snapshot } from './types.ts';

/** A message as the core builds it: the sender is filled in by the core. */
export type Outgoing = Message extends infer M ? (M extends unknown ? Omit<M, 'from'> : never) : never;

/** What the leader's replication needs from the rest of the core. */
export interface LeaderReplicationOptions {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  term(): number;
  /** Ticks since start, for snapshot timeouts. */
  ticks(): number;
  snapshot(): Snapshot | undefined;
  send(message: Outgoing): void;
}

/** What an acknowledgement changed, for the core to act on. */
export interface AckOutcome {
  /** The follower's match moved: a commit may follow. */
  readonly matchAdvanced: boolean;
  /** The follower was paused (full pipeline, or probing) before this answer. */
  readonly wasPaused: boolean;
}

/**
 * The leader's side of log replication (Raft §5.3): one `Progress` per follower, appends pipelined
 * within the in-flight limits, probing back on rejection (by term, skipping whole terms), snapshots
 * for followers behind the first log index, and what each follower's acknowledgements count for.
 */
export class LeaderReplication {
  readonly progress = new Map<NodeId, Progress>();

  constructor(private readonly host: LeaderReplicationOptions) {}

  clear(): void {
    this.progress.clear();
  }

  /** Keeps one progress per member of the newest configuration (it takes effect on append). */
  sync(): ReadonlySet<NodeId> {
    const { log, config } = this.host;
    const current = new Set(members(log.membership()));
    for (const id of this.progress.keys()) if (!current.has(id)) this.progress.delete(id);
    current.delete(this.host.id);
    for (const id of current) {
      if (!this.progress.has(id)) this.progress.set(id, new Progress(log.lastIndex() + 1, config.inflightAppendsMax, config.inflightBytesMax));
    }
    return current;
  }

  broadcastAppend(): void {
    for (const id of this.progress.keys()) this.sendAppend(id, true);
  }

  broadcastHeartbeat(readContext: string): void {
    for (const [id, pr] of this.progress) {
      const commit = Math.min(pr.match, this.host.log.committed);
      this.host.send({ type: 'heartbeat', to: id, term: this.host.term(), commit, readContext });
    }
  }

  /** Sends the next append (or the snapshot) to `to`; false when paused or nothing to send. */
  sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const { log, config } = this.host;
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(to, pr);
    const entries = log.slice(pr.next, log.lastIndex() + 1, config.appendEntriesMax, config.appendBytesMax);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.host.send({ type: 'append', to, term: this.host.term(), prevIndex, prevTerm, entries, commit: log.committed });
    pr.onAppendSent(
      entries[entries.length - 1]?.index,
      entries.reduce((sum, entry) => sum + entryBytes(entry), 0),
    );
    return true;
  }

  /** Keeps the pipeline to `to` full while it has room and there are entries. */
  fillPipeline(to: NodeId): void {
    while (this.sendAppend(to, false)) {
      // Each pass sends one append.
    }
  }

  /** Records an append answer; undefined when it came from no follower we track. */
  onAppendResponse(response: AppendResponseMessage): AckOutcome | undefined {
    const pr = this.progress.get(response.from);
    if (pr === undefined) return undefined;
    // A correct follower never acknowledges, nor points a rejection, past this leader's log: its
    // log matches ours up to what it acknowledges, and every committed entry is in ours. Such an
    // answer is dropped, and a hint past our log is read as our log's end, so that a faulty peer
    // cannot send the follower's next index beyond the log (where the core would find no entry
    // and no snapshot to send).
    const last = this.host.log.lastIndex();
    if (response.index > last) return undefined;
    const message = response.rejectHint > last ? { ...response, rejectHint: last } : response;
    pr.recentActive = true;
    if (this.noteRecovering(pr, message) && message.reject) {
      this.sendAppend(message.from, true);
      return { matchAdvanced: false, wasPaused: false };
    }
    if (message.reject) {
      this.onAppendRejected(message, pr);
      return { matchAdvanced: false, wasPaused: false };
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(message.index)) return { matchAdvanced: false, wasPaused };
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.inflights.freeLE(message.index);
    return { matchAdvanced: true, wasPaused };
  }

  onHeartbeatResponse(message: HeartbeatResponseMessage): void {
    const pr = this.progress.get(message.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    this.noteRecovering(pr, message);
    // A lost append would otherwise leave a full pipeline waiting forever.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    // A recovering follower is probed even when it seems caught up: its match may predate its loss.
    if (pr.match < this.host.log.lastIndex() || pr.recovering) this.sendAppend(message.from, true);
  }

  /** What a follower's acknowledgements count for toward a commit: nothing while it recovers. */
  countedMatch(id: NodeId): number {
    const pr = this.progress.get(id);
    return pr === undefined || pr.recovering ? 0 : pr.match;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snapshot = this.host.snapshot();
    assert(snapshot !== undefined, 'log compacted without a snapshot to send');
    this.host.send({ type: 'snapshot', to, term: this.host.term(), snapshot });
    pr.becomeSnapshot(snapshot.meta.index, this.host.ticks());
    return true;
  }

  private onAppendRejected(message: AppendResponseMessage, pr: Progress): void {
    let matchHint = message.rejectHint;
    if (message.rejectTerm > 0) {
      matchHint = this.host.log.findConflictByTerm(message.rejectHint, message.rejectTerm)[0];
    }
    if (!pr.maybeDecreaseTo(message.index, matchHint)) return;
    if (pr.state === 'replicate') pr.becomeProbe();
    this.sendAppend(message.from, true);
  }

  /**
   * A follower that starts recovering may hold less than it acknowledged: its match is forgotten
   * and its log probed again. So is a match that a recovering follower's rejection shows it does
   * not hold (its log ends below it): an acknowledgement from before its disk lost data, arriving
   * late. Its later acknowledgements are true (it persists before answering) but do not count
   * toward a commit until it says it has recovered. True when the match was forgotten.
   */
  private noteRecovering(pr: Progress, message: AppendResponseMessage | HeartbeatResponseMessage): boolean {
    const recovering = message.recovering === true;
    const stale = message.type === 'appendResponse' && message.reject && message.rejectHint < pr.match;
    const forget = recovering && (!pr.recovering || stale);
    if (forget) pr.forgetMatch(message.type === 'appendResponse' && message.reject ? message.rejectHint + 1 : this.host.log.lastIndex() + 1);
    pr.recovering = recovering;
    return forget;
  }
}
