import type { Logger } from 'pino';
import type { MembershipChange, NodeId, Raft, RaftStatus } from '../../raft/index.ts';
import type { MembershipService } from './membership-service.ts';
import { RecoveryNudge } from './recovery-nudge.ts';

export interface LeaderDutiesOptions {
  readonly id: NodeId;
  readonly submit: (input: (raft: Raft) => void) => void;
  readonly membership: MembershipService;
  readonly log: Logger;
  /** How long a caught-up follower may stay recovering before the leader hands over (see `RecoveryNudge`). */
  readonly stabilizationMs: number;
  readonly catchUpLagEntriesMax: number;
  /** Why a node may not be added now (its release is too old for the cluster's version, or not known yet), or undefined. */
  readonly joinRefusal: (node: NodeId, status: RaftStatus) => string | undefined;
}

/**
 * What a leader does, each autopilot round, about who takes part: first end a repair that only a
 * new term can end (`RecoveryNudge`), else turn the gossip view into at most one membership change
 * at a time.
 */
export class LeaderDuties {
  private changeInFlight = false;
  /** Joiners refused for their release, with why: each said once, not every round. */
  private readonly refusedJoiners = new Map<NodeId, string>();
  private readonly nudge: RecoveryNudge;

  constructor(private readonly options: LeaderDutiesOptions) {
    this.nudge = new RecoveryNudge(options.stabilizationMs, options.catchUpLagEntriesMax);
  }

  /**
   * The autopilot's next change, passing over joiners that may not join now: one refused joiner must
   * not hold back the promotions and the other joiners behind it.
   */
  private nextAllowedChange(now: number, status: RaftStatus): MembershipChange | undefined {
    const notJoining = new Set<NodeId>();
    for (;;) {
      const change = this.options.membership.nextChange(now, status, notJoining);
      const refusal = change?.type === 'addLearner' ? this.options.joinRefusal(change.node, status) : undefined;
      if (change === undefined || refusal === undefined) {
        if (change?.type === 'addLearner') this.refusedJoiners.delete(change.node);
        return change;
      }
      if (this.refusedJoiners.get(change.node) !== refusal)
        this.options.log.warn({ node: change.node }, `not adding ${change.node} to the cluster: ${refusal}`);
      this.refusedJoiners.set(change.node, refusal);
      notJoining.add(change.node);
    }
  }

  /** Forgets a change handed to a driver that stopped before running it (it would never clear). */
  reset(): void {
    this.changeInFlight = false;
  }

  run(now: number, status: RaftStatus): void {
    if (status.role !== 'leader' || this.changeInFlight) return;
    const { submit, log } = this.options;
    const target = this.nudge.transferTarget(now, this.options.id, status);
    if (target !== undefined) {
      log.info({ to: target }, 'a follower caught up but still recovering needs a new term: handing over leadership');
      submit((raft) => {
        raft.transferLeadership(target);
      });
      return;
    }
    const change = this.nextAllowedChange(now, status);
    if (change === undefined) return;
    this.changeInFlight = true;
    submit((raft) => {
      const proposed = raft.proposeMembershipChange(change);
      this.changeInFlight = false;
      if (proposed.ok) log.info({ change: change.type, node: change.node, index: proposed.index }, 'proposed a membership change');
      else log.debug({ change: change.type, node: change.node, reason: proposed.error.code }, 'membership change not proposed');
    });
  }
}
