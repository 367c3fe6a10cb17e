import type { NodeId, RaftStatus } from '../../raft/index.ts';
import { isVoter } from '../../raft/index.ts';

/**
 * A node that lost acknowledged data stays recovering until its log reaches what it acknowledged,
 * or holds an entry of a later term. When its acknowledged mark was damaged too, it knows only the
 * term of what it lost, not how far it went: only a later term can end its repair, and a healthy
 * cluster may keep its leader (and term) for days. So the leader, seeing a follower caught up with
 * its log yet still recovering for a while, hands leadership to a caught-up voter that is not
 * recovering: the new leader's first entry, of a later term, finishes the repair. A transfer is
 * safe whoever the recovering node voted for, since it votes for no one until repaired.
 */
export class RecoveryNudge {
  /** When each follower was first seen caught up and recovering, without a break. */
  private readonly stuckSince = new Map<NodeId, number>();
  /** Followers already nudged for: at most one transfer for each stretch of being stuck. */
  private readonly nudged = new Set<NodeId>();

  constructor(
    private readonly waitMs: number,
    private readonly catchUpLagEntriesMax: number,
  ) {}

  /** The voter to hand leadership to now, if a recovering follower needs a new term. */
  transferTarget(now: number, self: NodeId, status: RaftStatus): NodeId | undefined {
    if (status.role !== 'leader') return undefined;
    const caughtUp = (match: number) => match >= status.lastIndex - this.catchUpLagEntriesMax;
    const stuck = status.progress.filter((progress) => progress.recovering && caughtUp(progress.match)).map((progress) => progress.id);
    for (const id of [...this.stuckSince.keys()]) if (!stuck.includes(id)) this.stuckSince.delete(id);
    for (const id of [...this.nudged]) if (!stuck.includes(id)) this.nudged.delete(id);
    for (const id of stuck) if (!this.stuckSince.has(id)) this.stuckSince.set(id, now);
    const due = stuck.filter((id) => !this.nudged.has(id) && now - this.stuckSince.get(id)! >= this.waitMs);
    if (due.length === 0) return undefined;
    const target = status.progress
      .filter((progress) => progress.id !== self && !progress.recovering && isVoter(status.membership, progress.id) && caughtUp(progress.match))
      .sort((a, b) => b.match - a.match)[0];
    if (target === undefined) return undefined;
    for (const id of due) this.nudged.add(id);
    return target.id;
  }
}
